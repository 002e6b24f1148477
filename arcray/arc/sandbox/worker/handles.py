"""The supervisor's handles on the other processes: the template (fork a child, hear of its exit)
and each child (its request going out, its reply lines coming in, bounded).
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import time
from collections import deque

REPLY_LIMIT = 4 * 1024 * 1024  # bytes one child may send back; more breaks the protocol
FORK_TIMEOUT_S = 10.0
MALFORMED = object()  # a reply line that is not a JSON object


class TemplateGone(RuntimeError):
    """The template stopped answering: this worker cannot fork any more."""


class Template:
    """The supervisor's end of the control socket: fork children, hear of their exits."""

    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.exits: dict[int, int] = {}
        self.live: set[int] = set()

    def hello(self, timeout: float) -> dict:
        message = self.receive(time.monotonic() + timeout)
        if message is None or not message.get("ready"):
            raise TemplateGone("the template did not start")
        return message

    def fork(self, fds: list[int]) -> int:
        try:
            socket.send_fds(self.control, [b"fork"], fds)
        except OSError as error:
            raise TemplateGone(f"cannot reach the template ({error})") from None
        deadline = time.monotonic() + FORK_TIMEOUT_S
        while True:
            message = self.receive(deadline)
            if message is None:
                raise TemplateGone("the template did not fork")
            if "forked" in message:
                self.live.add(message["forked"])
                return message["forked"]

    def pump(self) -> None:
        """Take every message waiting on the socket (exit reports) without blocking."""
        while select.select([self.control], [], [], 0)[0]:
            if self.receive(time.monotonic()) is None:
                raise TemplateGone("the template is gone")

    def receive(self, deadline: float) -> dict | None:
        remaining = deadline - time.monotonic()
        if not select.select([self.control], [], [], max(remaining, 0))[0]:
            return None
        data = self.control.recv(4096)
        if not data:
            raise TemplateGone("the template is gone")
        message = json.loads(data)
        if "exited" in message:
            self.exits[message["exited"]] = message["status"]
            self.live.discard(message["exited"])
        return message

    def kill(self, pid: int) -> None:
        if pid in self.live:  # never a pid that was reaped (it could be reused)
            for kill in (os.killpg, os.kill):
                try:
                    kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass


class Child:
    """The supervisor's view of one child: its request going out, its reply lines coming in."""

    def __init__(self, template: Template, request: dict, extra_fds: tuple[int, ...] = ()) -> None:
        request_read, self.request_fd = os.pipe()
        self.fd, reply_write = os.pipe()
        try:
            self.pid = template.fork([request_read, reply_write, *extra_fds])
        except BaseException:
            for fd in (self.request_fd, self.fd):
                os.close(fd)
            raise
        finally:
            os.close(request_read)
            os.close(reply_write)
        os.set_blocking(self.request_fd, False)
        self.outgoing = json.dumps(request).encode() + b"\n"
        self.buffer, self.received = bytearray(), 0
        self.messages: deque = deque()
        self.ended = self.flooded = False

    def wants_to_write(self) -> bool:
        return self.request_fd is not None

    def write_some(self) -> None:
        try:
            sent = os.write(self.request_fd, self.outgoing[:1 << 16])
        except BlockingIOError:
            return
        except OSError:  # the child is gone; its reply pipe will say so
            sent = len(self.outgoing)
        self.outgoing = self.outgoing[sent:]
        if not self.outgoing:
            os.close(self.request_fd)
            self.request_fd = None

    def read_some(self) -> None:
        chunk = os.read(self.fd, 1 << 16)
        self.received += len(chunk)
        if not chunk or self.received > REPLY_LIMIT:
            self.ended = True
            self.flooded = self.received > REPLY_LIMIT
            return
        self.buffer += chunk
        if b"\n" in chunk:  # only the new bytes are searched: a long line costs its length, not its square
            *lines, rest = self.buffer.split(b"\n")
            self.buffer = bytearray(rest)
            for line in lines:
                self.messages.append(_parse(bytes(line)))

    def close(self) -> None:
        for fd in (self.request_fd, self.fd):
            if fd is not None:
                os.close(fd)
        self.request_fd = self.fd = None


def _parse(line: bytes):
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        return MALFORMED
    return message if isinstance(message, dict) else MALFORMED
