"""One evaluation's process. Forked from the template for one request, it confines itself, reads
that request from its own pipe, runs it and exits; nothing of it outlives it or reaches another.

Descriptors, installed by the template: 3 the request (read to its end), 4 the replies to the
supervisor; for the CODE judge's two processes also 5 and 6, the pipes between the answer and
the tests. Roles:

- ``solve``: ``solve(grid)`` from the code on each input, one reply line per input, in order;
- ``candidate``: the answer to a CODE problem, compiled on its own. It says whether it compiled
  (before any of it runs), then answers calls from the tests process: arguments in, a return
  value out, plain data both ways (:mod:`plain`);
- ``tests``: the problem's tests, with the entry point bound to a stub that calls the answer's
  process. The verdict (the tests ran to the end, and every value the answer sent was plain data)
  is decided here, where no line of the answer runs, and sent to the supervisor.
"""

from __future__ import annotations

import builtins
import fcntl
import json
import math
import os
import resource
import signal
import sys
import tempfile

import guards
import plain

REQUEST_FD, REPLY_FD, PEER_IN_FD, PEER_OUT_FD = 3, 4, 5, 6
REQUEST_LIMIT = 256 * 1024 * 1024
CALL_LIMIT = 16 * 1024 * 1024  # bytes of one call or one return value between the CODE processes
MAX_SIDE = 30
PR_SET_PDEATHSIG = 1
_write, _exit = os.write, os._exit  # bound before any untrusted code can replace them


def main(fds: list[int], warm) -> None:
    """Runs in the forked child; never returns."""
    try:
        _own_descriptors(fds)
        request = json.loads(_read_all(REQUEST_FD, REQUEST_LIMIT))
        captured = _confine(request, warm)
    except BaseException as error:  # confinement failed: report and refuse to run the code
        _send({"fatal": f"sandbox setup failed: {describe(error)}"})
        _exit(3)
    role = {"solve": _solve, "candidate": _candidate, "tests": _tests}[request["role"]]
    role(request, captured)
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
        """What was printed since the last call (and, once, how much was dropped)."""
        text, self.parts = "".join(self.parts), []
        if self.dropped and not self.noted:
            self.noted = True
            text += "\n[... more characters dropped]"
        return text


# ---------------------------------------------------------------- talking

def _send(message: dict) -> None:
    _write_all(REPLY_FD, json.dumps(message).encode() + b"\n")


def _write_all(fd: int, data: bytes) -> None:
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
    """Lines from a pipe, each at most ``limit`` bytes; None at the end or past the limit."""

    def __init__(self, fd: int, limit: int) -> None:
        self.fd, self.limit, self.buffer = fd, limit, b""

    def line(self) -> bytes | None:
        while b"\n" not in self.buffer:
            if len(self.buffer) > self.limit:
                return None
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
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


# ---------------------------------------------------------------- solve(grid)

def _solve(request: dict, captured: CappedText) -> None:
    inputs, start = request["inputs"], int(request["start"])
    failure = None
    namespace = {"__name__": "solver", "__builtins__": builtins}
    compiled, failure = compile_source(request["code"], "<solver>")
    if compiled is not None:
        try:
            exec(compiled, namespace)
            solve = namespace.get("solve")
            if not callable(solve):
                raise LookupError("the code defines no function solve(grid)")
        except LookupError as error:
            failure = ("invalid_code", str(error))
        except MemoryError:
            failure = ("memory", "MemoryError while loading the code")
        except BaseException as error:  # the solver's own module-level code failed
            failure = ("exception", f"while loading the code: {describe(error)}")
    for offset, grid in enumerate(inputs):
        if failure:
            kind, message, result = failure[0], failure[1], None
        else:
            try:
                converted = as_grid(solve([list(row) for row in grid]))
            except MemoryError:
                converted = ("memory", "MemoryError: the solver exceeded its memory limit")
            except BaseException as error:  # SystemExit and KeyboardInterrupt from the solver too
                converted = ("exception", describe(error))
            kind, message, result = (converted[0], converted[1], None) if isinstance(converted, tuple) else ("ok", "", converted)
        _send({"index": start + offset, "kind": kind, "grid": result, "message": message, "stdout": _taken(captured)})


def _taken(captured: CappedText) -> str:
    try:
        return captured.take()
    except BaseException:
        return ""


def as_grid(value):
    """The solver's return value as plain lists of ints, or (kind, message)."""
    import numpy as np

    if isinstance(value, np.ndarray):
        if value.ndim != 2:
            return "bad_shape", f"returned an array with {value.ndim} dimension(s); a grid has 2"
        if value.dtype.kind not in "iub" and not (value.dtype.kind == "f" and np.all(np.mod(value, 1) == 0)):
            return "not_grid", f"returned an array of {value.dtype}; a grid holds integers 0-9"
        rows = [[int(c) for c in row] for row in np.asarray(value, dtype=np.float64).tolist()]
    elif isinstance(value, (list, tuple)):
        rows = []
        for r, row in enumerate(value):
            if isinstance(row, np.ndarray):
                row = row.tolist()
            if not isinstance(row, (list, tuple)):
                return "not_grid", f"row {r} is a {type(row).__name__}, not a list of colours"
            cells = []
            for c, cell in enumerate(row):
                if isinstance(cell, (bool, np.bool_)) or not isinstance(cell, (int, np.integer, float, np.floating)):
                    return "not_grid", f"cell ({r},{c}) is a {type(cell).__name__}, not an integer colour"
                if isinstance(cell, (float, np.floating)) and (not math.isfinite(float(cell)) or float(cell) != int(cell)):
                    return "not_grid", f"cell ({r},{c}) is {float(cell)}, not an integer colour"
                cells.append(int(cell))
            rows.append(cells)
    else:
        return "not_grid", f"returned a {type(value).__name__}, not a grid (a list of lists of ints)"
    if not rows or not rows[0]:
        return "bad_shape", "returned an empty grid"
    width = len(rows[0])
    for r, row in enumerate(rows):
        if len(row) != width:
            return "bad_shape", f"ragged grid: row {r} has {len(row)} cells, row 0 has {width}"
    if len(rows) > MAX_SIDE or width > MAX_SIDE:
        return "bad_shape", f"returned a {len(rows)}x{width} grid; ARC grids are at most {MAX_SIDE}x{MAX_SIDE}"
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if not 0 <= cell <= 9:
                return "not_grid", f"cell ({r},{c}) is {cell}; colours are 0-9"
    return rows


# ---------------------------------------------------------------- the CODE judge: the answer

def _candidate(request: dict, captured: CappedText) -> None:
    compiled, failure = compile_source(request["code"], "<answer>")
    _send({"compiled": failure is None, "message": failure[1] if failure else ""})  # before any of it runs
    if failure:
        return
    entry = request["entry_point"]
    namespace = {"__name__": "answer", "__builtins__": builtins}
    problem = None
    try:
        exec(compiled, namespace)
        function = namespace.get(entry)
        if not callable(function):
            problem = ("invalid_code", f"the answer defines no function {entry}()")
    except MemoryError:
        problem = ("memory", "MemoryError while loading the answer")
    except BaseException as error:
        problem = ("exception", f"while loading the answer: {describe(error)}")
    calls = LineReader(PEER_IN_FD, CALL_LIMIT)
    while (line := calls.line()) is not None:
        reply = ["failed", *problem] if problem else _call(function, line)
        try:
            data = plain.dumps(reply)
        except BaseException as error:  # a value that is not plain data, or one that breaks while being read
            why = str(error) if isinstance(error, plain.NotPlain) else f"could not be read ({describe(error)})"
            data = plain.dumps(["failed", "exception", f"the answer returned a value that {why}"])
        _write_all(PEER_OUT_FD, data + b"\n")
        printed = _taken(captured)
        if printed:
            _send({"stdout": printed})


def _call(function, line: bytes) -> list:
    try:
        _, args, kwargs = plain.loads(line)
        return ["value", function(*args, **kwargs)]
    except MemoryError:
        return ["failed", "memory", "MemoryError: the answer exceeded its memory limit"]
    except BaseException as error:  # the answer raised (SystemExit too)
        return ["raised", describe(error)]


# ---------------------------------------------------------------- the CODE judge: the tests

class AnswerRaised(Exception):
    """The answer's function raised; its text is ``Type: message`` from the answer's process."""


class AnswerFailed(Exception):
    """The answer cannot be judged right: it crashed, ran out of memory or sent something other than plain data."""


def _tests(request: dict, captured: CappedText) -> None:
    entry = request["entry_point"]
    results, failed = LineReader(PEER_IN_FD, CALL_LIMIT + 1024), []

    def call_the_answer(*args, **kwargs):
        if failed:
            raise AnswerFailed(failed[0][1])
        try:
            line = plain.dumps(["call", list(args), kwargs])
        except plain.NotPlain as error:
            raise TypeError(f"the tests passed an argument that {error}; only plain data reaches the answer") from None
        try:
            _write_all(PEER_OUT_FD, line + b"\n")
            reply = results.line()
        except OSError:
            reply = None
        if reply is None:
            failed.append(("crash", "the answer's process ended or sent too much before returning"))
            raise AnswerFailed(failed[0][1])
        try:
            reply = plain.loads(reply)
        except plain.NotPlain:
            reply = None
        if type(reply) is list and len(reply) == 2 and reply[0] == "value":
            return reply[1]
        if type(reply) is list and len(reply) == 2 and reply[0] == "raised" and type(reply[1]) is str:
            raise AnswerRaised(reply[1][:500])
        if type(reply) is list and len(reply) == 3 and reply[0] == "failed" and type(reply[2]) is str:
            kind = reply[1] if reply[1] in ("memory", "exception", "invalid_code") else "exception"
            failed.append((kind, reply[2][:500]))
        else:
            failed.append(("exception", "the answer's process sent something that is not a return value"))
        raise AnswerFailed(failed[0][1])

    namespace = {"__name__": "tests", "__builtins__": builtins}
    try:
        if request.get("setup"):
            exec(compile(request["setup"], "<setup>", "exec"), namespace)
        namespace[entry] = call_the_answer
        exec(compile(request["tests"], "<tests>", "exec"), namespace)
        verdict = ("ok", "")
    except MemoryError:
        verdict = ("memory", "MemoryError in the tests")
    except AnswerRaised as error:
        verdict = ("exception", f"{error} (raised by the answer)")
    except BaseException as error:  # a failed assert, an exception the answer's value caused
        verdict = ("exception", describe(error))
    if failed:
        verdict = failed[0]
    _send({"verdict": verdict[0], "message": verdict[1]})
