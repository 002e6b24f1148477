"""One evaluation's process. Forked from the template for one request, it confines itself, reads
that request from its own pipe, runs its role and exits; nothing of it outlives it or reaches
another.

Descriptors, installed by the template: 3 the request (read to its end), 4 the replies to the
supervisor; for the CODE judge's two processes also 5 and 6, the pipes between the answer and
the tests. The roles (:mod:`solve`, :mod:`code_judge`) use the helpers here to talk and to
describe what went wrong.
"""

from __future__ import annotations

import fcntl
import json
import os
import resource
import signal
import sys
import tempfile
from typing import Callable

import guards

REQUEST_FD, REPLY_FD, PEER_IN_FD, PEER_OUT_FD = 3, 4, 5, 6
REQUEST_LIMIT = 256 * 1024 * 1024
PR_SET_PDEATHSIG = 1
Role = Callable[[dict, "CappedText"], None]
_write, _exit = os.write, os._exit  # bound before any untrusted code can replace them


def main(fds: list[int], warm, roles: dict[str, Role]) -> None:
    """Runs in the forked child; never returns."""
    try:
        _own_descriptors(fds)
        request = json.loads(_read_all(REQUEST_FD, REQUEST_LIMIT))
        captured = _confine(request, warm)
    except BaseException as error:  # confinement failed: report and refuse to run the code
        send({"fatal": f"sandbox setup failed: {describe(error)}"})
        _exit(3)
    roles[request["role"]](request, captured)
    _exit(0)


# ---------------------------------------------------------------- confinement

def _own_descriptors(fds: list[int]) -> None:
    """Session, parent-death signal, signal state, and exactly the descriptors this role holds."""
    os.setsid()
    signal.set_wakeup_fd(-1)
    for number in (signal.SIGCHLD, signal.SIGINT):
        signal.signal(number, signal.SIG_DFL)
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 1000 + i) for i, fd in enumerate(fds)]
    for i, fd in enumerate(high):
        os.dup2(fd, REQUEST_FD + i)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.closerange(REQUEST_FD + len(fds), 1 << 16)


def _confine(request: dict, warm) -> "CappedText":
    if warm.libc is not None:
        warm.libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    workdir = request["workdir"]
    os.chdir(workdir)
    os.environ.clear()
    os.environ.update({"HOME": workdir, "TMPDIR": workdir, "PATH": "/usr/bin:/bin"})
    tempfile.tempdir = workdir
    limits = {
        resource.RLIMIT_AS: int(request["memory_bytes"]),
        resource.RLIMIT_FSIZE: int(request["file_bytes"]),
        resource.RLIMIT_NOFILE: 64,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_CPU: int(request["cpu_seconds"]),  # one thread: CPU time never exceeds wall time
    }
    for which, value in limits.items():
        resource.setrlimit(which, (value, value))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversize writes fail with EFBIG instead
    guards.load_filter(warm.seccomp, warm.libc, warm.ctypes)
    captured = CappedText(int(request["output_limit"]))
    sys.stdout = sys.stderr = captured
    sys.addaudithook(guards.audit_hook(os.path.realpath(workdir), warm.code_roots))
    return captured


class CappedText:
    """A text stream that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit, self.parts, self.kept, self.dropped, self.noted = limit, [], 0, 0, False

    def write(self, text) -> int:
        text = str(text)
        room = self.limit - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def take(self) -> str:
        """What was printed since the last call (and, once, that more was dropped); never raises."""
        try:
            text, self.parts = "".join(self.parts), []
        except BaseException:  # the code replaced what it printed with something that is not text
            text, self.parts = "", []
        if self.dropped and not self.noted:
            self.noted = True
            text += "\n[... more characters dropped]"
        return text


# ---------------------------------------------------------------- talking

def send(message: dict) -> None:
    write_all(REPLY_FD, json.dumps(message).encode() + b"\n")


def write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[_write(fd, data):]


def _read_all(fd: int, limit: int) -> bytes:
    parts, size = [], 0
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            os.close(fd)
            return b"".join(parts)
        size += len(chunk)
        if size > limit:
            raise ValueError("the request is too large")
        parts.append(chunk)


class LineReader:
    """Lines from a pipe, each at most ``limit`` bytes; None at the end or past the limit.
    Each byte is read and searched once, so a long line costs its length, not its square."""

    def __init__(self, fd: int, limit: int) -> None:
        self.fd, self.limit, self.buffer = fd, limit, bytearray()

    def line(self) -> bytes | None:
        searched = 0
        while (end := self.buffer.find(b"\n", searched)) < 0:
            if len(self.buffer) > self.limit:
                return None
            searched = len(self.buffer)
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                return None
            self.buffer += chunk
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 1]
        return line


def describe(error: BaseException) -> str:
    """``Type: message`` of an exception, whatever its ``__str__`` does (it may raise, even SystemExit)."""
    try:
        name = type(error).__name__
        name = name if isinstance(name, str) else "Exception"
    except BaseException:
        name = "Exception"
    try:
        text = str(error)
        text = text if isinstance(text, str) else ""
    except BaseException:
        text = "(its message could not be read)"
    text = f"{name}: {text}" if text else name
    return text if len(text) <= 500 else text[:500] + "..."


def compile_source(code, name: str):
    """(code object, None), or (None, ("invalid_code", why)) for source that does not compile."""
    try:
        return compile(code, name, "exec"), None
    except SyntaxError as error:
        return None, ("invalid_code", f"SyntaxError: {error.msg} (line {error.lineno})")
    except MemoryError:
        return None, ("invalid_code", "the source is too large or too deeply nested to compile")
    except (ValueError, TypeError, RecursionError, UnicodeError) as error:  # null bytes, surrogates, deep nesting
        return None, ("invalid_code", describe(error))
