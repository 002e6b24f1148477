"""The supervisor: reads the caller's requests, has the template fork one child per evaluation,
and decides every verdict from what it observes. No child can reach it (seccomp denies signals,
ptrace and other processes' memory; it is not dumpable).

Solve requests (ARC): a child answers its inputs in order, one line each. An answer out of
order, a malformed line or too many bytes breaks the protocol: every input still unanswered is a
crash. A child that exits by itself before answering everything leaves the rest as crashes too
(nothing it printed can say otherwise). A child killed by a signal, or past its time, costs the
one input it was on; the inputs after it get a new child. So no input is ever run twice, and a
request forks at most one child per input.

Function requests (the CODE judge): the answer runs in one child, the tests in another; the
verdict is the tests' process's, given only when it also exits cleanly and the answer compiled
on its own.

After each reply the supervisor waits for every child of the evaluation to be reaped and empties
the scratch tmpfs. If either fails, it is no longer fit: it answers the next request with
``replace`` (the caller starts a fresh worker and sends that request again), so an evaluation
never starts in a sandbox an earlier one disturbed.
"""

from __future__ import annotations

import json
import math
import os
import select
import signal
import socket
import sys
import tempfile
import time

import grids
import scratch
from handles import MALFORMED, REPLY_LIMIT, Child, Template, TemplateGone

KINDS = ("ok", "timeout", "exception", "memory", "not_grid", "bad_shape", "invalid_code", "crash")
MESSAGE_LIMIT = 2000
SETTLE_TIMEOUT_S = 5.0


class Supervisor:
    def __init__(self, template: Template, scratch_root: str) -> None:
        self.template = template
        self.scratch_root = scratch_root
        self.children: list[Child] = []
        self.unfit = ""  # why this worker must be replaced before it runs anything else
        self.output_limit = 0
        self.stdout: list[str] = []
        self.stdout_kept = 0  # characters in self.stdout (kept as a count: a sum per message would be quadratic)

    # -- the loop

    def serve(self, requests, reply) -> None:
        for line in requests:
            request_id = None
            try:
                request = json.loads(line)
                request_id = request.get("id") if isinstance(request, dict) else None
                if self.unfit:
                    result = {"replace": self.unfit}
                else:
                    result = self.evaluate(request)
            except TemplateGone as error:
                result = {"replace": str(error)}
                self.unfit = result["replace"]
            except Exception as error:  # never silently: this worker is done, and the caller is told
                result = {"replace": f"the sandbox worker failed ({type(error).__name__}: {error})"[:500]}
                self.unfit = result["replace"]
            reply.write(json.dumps({"id": request_id, **result}) + "\n")
            reply.flush()
            self.settle()

    def settle(self) -> None:
        """Every child of the last evaluation killed and reaped, the scratch tmpfs empty; else unfit."""
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        try:
            for child in self.children:
                self.template.kill(child.pid)
                child.close()
            while self.template.live and time.monotonic() < deadline:
                self.template.receive(deadline)
            self.template.exits.clear()
        except TemplateGone as error:
            self.unfit = str(error)
            return
        self.children.clear()
        if self.template.live:
            self.unfit = "a child of the last evaluation could not be reaped"
        elif not scratch.empty(self.scratch_root, max_seconds=SETTLE_TIMEOUT_S):
            self.unfit = "the scratch folder could not be emptied"

    # -- evaluations

    def evaluate(self, request: dict) -> dict:
        self.output_limit = int(request["output_limit"])
        self.stdout, self.stdout_kept = [], 0
        if request.get("entry") == "function":
            outcomes = [self.function(request)]
        else:
            outcomes = self.solve(request)
        stdout = "".join(self.stdout)[: self.output_limit]
        return {"outcomes": outcomes, "stdout": stdout, "children": len(self.children)}

    def spawn(self, request: dict, role: str, fields: dict, extra_fds: tuple[int, ...] = (), inputs: int = 1) -> Child:
        workdir = tempfile.mkdtemp(prefix="e", dir=self.scratch_root)  # a name no earlier child could guess
        limits = {k: request[k] for k in ("memory_bytes", "file_bytes", "output_limit")}
        cpu = math.ceil(float(request["timeout_s"]) * inputs) + 1
        child = Child(self.template, {"role": role, "workdir": workdir, "cpu_seconds": cpu, **limits, **fields}, extra_fds)
        self.children.append(child)
        return child

    def solve(self, request: dict) -> list[dict]:
        inputs = request["inputs"]
        outcomes: list = [None] * len(inputs)
        index = 0
        while index < len(inputs):
            child = self.spawn(request, "solve", {"code": request["code"], "inputs": inputs[index:], "start": index},
                               inputs=len(inputs) - index)
            index = self._follow(child, index, outcomes, float(request["timeout_s"]))
            self.template.kill(child.pid)
        return outcomes

    def _follow(self, child: Child, index: int, outcomes: list, timeout: float) -> int:
        """Collect ``child``'s answers from ``index`` on; return the index the next child starts at."""
        total = len(outcomes)
        deadline = time.monotonic() + timeout
        while True:
            while child.messages:
                message = child.messages.popleft()
                if message is not MALFORMED and set(message) == {"fatal"}:
                    return _fill(outcomes, index, "crash", str(message["fatal"])[:MESSAGE_LIMIT])
                if message is MALFORMED or message.get("index") != index:
                    return _fill(outcomes, index, "crash", "the solver's process broke the sandbox's protocol")
                self._keep_stdout(message.get("stdout"))
                outcomes[index] = _checked(message)
                index += 1
                if index == total:
                    return index
                deadline = time.monotonic() + timeout
            if child.flooded:
                return _fill(outcomes, index, "crash", f"the solver's process sent more than {REPLY_LIMIT} bytes back")
            if child.ended:
                status = self._exit_status(child.pid, deadline)
                if status is None:
                    outcomes[index] = _outcome("timeout", f"no result within {timeout:g} s")
                    return index + 1
                if os.WIFEXITED(status):  # it ended itself: nothing after this input ran
                    return _fill(outcomes, index, "crash", _exit_reason(status))
                outcomes[index] = _outcome("crash", _exit_reason(status))
                return index + 1
            if not self._wait([child], deadline):
                outcomes[index] = _outcome("timeout", f"no result within {timeout:g} s")
                return index + 1

    def function(self, request: dict) -> dict:
        calls_read, calls_write = os.pipe()  # tests -> answer
        results_read, results_write = os.pipe()  # answer -> tests
        try:
            answer = self.spawn(request, "candidate", {"code": request["code"], "entry_point": request["entry_point"]},
                                (calls_read, results_write))
            tests = self.spawn(request, "tests", {"setup": request.get("setup", ""), "tests": request["tests"],
                                                  "entry_point": request["entry_point"]}, (results_read, calls_write))
        finally:
            for fd in (calls_read, calls_write, results_read, results_write):
                os.close(fd)
        timeout = float(request["timeout_s"])
        deadline = time.monotonic() + timeout
        compiled, verdict = None, None
        while True:
            while answer.messages:
                message = answer.messages.popleft()
                if message is MALFORMED:
                    continue
                if compiled is None and "fatal" in message:  # its confinement failed: none of the answer ran
                    return _outcome("crash", str(message["fatal"])[:MESSAGE_LIMIT])
                if compiled is None and "compiled" in message:  # sent before any of the answer ran
                    compiled = message
                    if message["compiled"] is not True:
                        return _outcome("invalid_code", str(message.get("message", ""))[:MESSAGE_LIMIT])
                self._keep_stdout(message.get("stdout"))
            while tests.messages:
                message = tests.messages.popleft()
                if verdict is None and message is not MALFORMED and ("verdict" in message or "fatal" in message):
                    verdict = (_outcome("crash", str(message["fatal"])[:MESSAGE_LIMIT]) if "fatal" in message
                               else _checked({"kind": message["verdict"], "message": message.get("message")}, program=True))
            if answer.ended and compiled is None:
                status = self._exit_status(answer.pid, deadline)
                return _outcome("crash", _exit_reason(status, "answer") if status is not None else "the answer's process did not start")
            if tests.ended and compiled is not None:
                status = self._exit_status(tests.pid, deadline)
                if status is None:
                    return _outcome("timeout", f"the tests did not finish within {timeout:g} s")
                if verdict is None or not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
                    return _outcome("crash", "the tests' process ended without a verdict")
                return verdict
            if not self._wait([answer, tests], deadline):
                return _outcome("timeout", f"the tests did not finish within {timeout:g} s")

    # -- waiting

    def _wait(self, children: list[Child], deadline: float) -> bool:
        """One round of I/O on the children (and the template's exit reports); False past the deadline."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        reading = [c.fd for c in children if not c.ended]
        writing = [c.request_fd for c in children if c.wants_to_write()]
        readable, writable, _ = select.select(reading + [self.template.control], writing, [], remaining)
        for child in children:
            if child.request_fd in writable:
                child.write_some()
            if child.fd in readable:
                child.read_some()
        if self.template.control in readable:
            self.template.pump()
        return True

    def _exit_status(self, pid: int, deadline: float) -> int | None:
        """The child's exit status once the template reports it, or None past the deadline."""
        while pid not in self.template.exits:
            if time.monotonic() >= deadline:
                return None
            self.template.receive(deadline)
        return self.template.exits[pid]

    def _keep_stdout(self, text) -> None:
        if isinstance(text, str) and text and self.stdout_kept < self.output_limit:
            self.stdout.append(text[: self.output_limit])
            self.stdout_kept += len(self.stdout[-1])


def _outcome(kind: str, message: str = "") -> dict:
    return {"kind": kind, "grid": None, "message": message}


def _fill(outcomes: list, index: int, kind: str, message: str) -> int:
    for i in range(index, len(outcomes)):
        outcomes[i] = _outcome(kind, message)
    return len(outcomes)


def _checked(message: dict, *, program: bool = False) -> dict:
    """What a child claims about one input, reduced to a kind, a grid and a short message."""
    kind = message.get("kind")
    text = message.get("message")
    text = text[:MESSAGE_LIMIT] if isinstance(text, str) else ""
    if kind not in KINDS:
        return _outcome("crash", "the process sent a malformed result")
    grid = grids.plain_or_none(message.get("grid")) if kind == "ok" and not program else None
    if kind == "ok" and grid is None and not program:
        return _outcome("not_grid", "returned something that is not a grid of colours 0-9")
    return {"kind": kind, "grid": grid, "message": text}


def _exit_reason(status: int, who: str = "solver") -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
        hint = {signal.SIGSEGV: " (stack overflow or a native crash)", signal.SIGKILL: " (killed: past a limit, or its CPU time)",
                signal.SIGXCPU: " (its CPU time)"}.get(number, "")
        return f"the {who}'s process was killed by {name}{hint}"
    return f"the {who}'s process exited with status {os.WEXITSTATUS(status)} before returning"


def run(scratch_root: str, preload: list[str]) -> None:
    """The worker's main: fork the template, then serve requests from stdin until it closes."""
    reply = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the caller decides when we stop
    _not_dumpable()  # inherited by the template and every child: no /proc/<pid>/mem, no ptrace
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:  # before any request exists: the template's memory never holds one
        ours.close()
        import template

        template.main(theirs, preload)
    theirs.close()
    supervisor_template = Template(ours)
    hello = supervisor_template.hello(timeout=60.0)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    reply.write(json.dumps({"ready": True, "seccomp": hello.get("seccomp", False)}) + "\n")
    Supervisor(supervisor_template, scratch_root).serve(sys.stdin, reply)


def _not_dumpable() -> None:
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE
    except (ImportError, OSError, AttributeError):
        pass
