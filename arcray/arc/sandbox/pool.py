"""The caller's side of the sandbox: a warm worker process, reused between calls.

``Sandbox.run(code, inputs)`` sends the source and inputs to a worker
(:mod:`arcray.arc.sandbox.worker`) that runs inside a bubblewrap sandbox
(:mod:`arcray.arc.sandbox.confine`): its supervisor has a warm template, which never sees a
request, fork one confined child per evaluation, and decides the outcome from what it observes.
``Sandbox.test_function`` judges a CODE answer with the answer and the tests in two processes.
Replies are read bounded in size and nesting (:mod:`arcray.arc.sandbox.wire`), every grid
is re-validated here as plain lists of ints, so nothing the solver built (an object whose
``__eq__`` always says True, say) ever reaches a comparison, and every message is stripped
of control characters. A worker that hangs, dies or talks nonsense is killed with its whole
sandbox and replaced on the next call; a worker that says it is no longer fit (a child it could
not reap, a scratch folder it could not empty) is replaced and the request sent again, so the
evaluation is unaffected.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Sequence

from arcray.arc.grid import Grid, grid_problem
from arcray.arc.sandbox import cgroup, confine
from arcray.arc.sandbox.config import SandboxConfig
from arcray.arc.sandbox.errors import SandboxUnavailable
from arcray.arc.sandbox.outcome import OUTCOME_KINDS, Outcome
from arcray.arc.sandbox.wire import parse_reply
from arcray.errors import warn
from arcray.text import printable

_WORKER = Path(__file__).with_name("worker")
_START_TIMEOUT_S = 60.0
_SETTLE_SLACK_S = 20.0  # a worker settles the last evaluation (reaping, cleanup: at most 2 x 5 s) before the next
_REPLY_LIMIT = 16 * 1024 * 1024
_MESSAGE_LIMIT = 2000
_WORKER_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT")
_SINGLE_THREADED = {k: "1" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
_warned_unconfined = False


class Sandbox:
    """Runs untrusted ``solve(grid)`` source on inputs, one confined process per evaluation.

    Thread-safe; one evaluation at a time per instance (make one per worker or actor).
    Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, config: SandboxConfig | None = None, **overrides) -> None:
        base = config or SandboxConfig()
        self.config = SandboxConfig(**{**base.model_dump(), **overrides}) if overrides else base
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._scratch: str | None = None  # the private folder when unconfined (inside bwrap it is a tmpfs)
        self._memory_base = 0
        self._next_id = 0
        self.restarts = 0
        self.seccomp = False
        self.confined = False
        self._cgroup: cgroup.WorkerCgroup | None = None
        self.cgroup_caps: dict[str, str] = {}  # the cgroup control files set around the worker (none without one)
        self.last_stdout = ""
        self.last_children = 0  # processes the last call forked (at most one per input; two for a function)

    # -- lifecycle

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort at interpreter exit
        try:
            self.close()
        except Exception:
            pass

    def close(self) -> None:
        """Stop the worker and everything it started; remove its private folder."""
        process, self._process = self._process, None
        if process is not None:
            for stream in (process.stdin, process.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            self._kill(process)
        scratch, self._scratch = self._scratch, None
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        group, self._cgroup = self._cgroup, None
        if group is not None:
            group.close()

    def _start(self) -> subprocess.Popen:
        env = dict(_SINGLE_THREADED)
        bwrap = confine.bwrap_path()
        if bwrap is None and not confine.unconfined_allowed(self.config.allow_unconfined):
            raise SandboxUnavailable(f"the sandbox cannot confine solvers here: bubblewrap (bwrap) is not installed; {confine.INSTALL_HINT}")
        if bwrap:
            command = confine.bwrap_command(bwrap, _WORKER, packages=self.config.packages,
                                            scratch_bytes=self.config.scratch_mb * 1024 * 1024, env=env)
        else:
            _warn_unconfined()
            env.update({k: os.environ[k] for k in _WORKER_ENV_KEEP if k in os.environ})
            self._scratch = tempfile.mkdtemp(prefix="arcray-sandbox-")
            command = [sys.executable, "-I", str(_WORKER / "main.py"), "--scratch", self._scratch, *confine.preload_option(self.config.packages)]
        delegated = cgroup.configured(self.config.cgroup)
        if delegated:
            self._cgroup = cgroup.create(delegated, memory_mb=self.config.memory_mb, scratch_mb=self.config.scratch_mb)
            self.cgroup_caps = dict(self._cgroup.caps)
            command = self._cgroup.launch(command)
        errors = tempfile.TemporaryFile()
        try:
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
                                       env=env, start_new_session=True, close_fds=True)
        except OSError as error:
            raise SandboxUnavailable(f"cannot start the sandbox worker ({error.strerror}: {command[0]}); {confine.INSTALL_HINT}") from None
        with errors:
            hello = self._read_line(process, time.monotonic() + _START_TIMEOUT_S)
            if not hello or not hello.get("ready"):
                self._kill(process)
                if self._cgroup is not None:
                    self._cgroup.close()
                    self._cgroup = None
                errors.seek(0)
                raise SandboxUnavailable(self._start_failure(errors.read(4096).decode("utf-8", "replace"), bool(bwrap)))
        self.seccomp = bool(hello.get("seccomp"))
        self.confined = bool(bwrap)
        self._memory_base = _address_space(_template_pid(process, confined=self.confined))
        return process

    @staticmethod
    def _start_failure(stderr: str, confined: bool) -> str:
        last = printable(next((line for line in reversed(stderr.strip().splitlines()) if line.strip()), ""), limit=300)
        if confined and last.startswith("bwrap:"):
            return f"the sandbox cannot confine solvers here ({last}); {confine.USERNS_HINT}"
        detail = f" ({last})" if last else ""
        return f"the sandbox worker did not start{detail}; check that `{sys.executable} -I -c 'import numpy'` works"

    @staticmethod
    def _kill(process: subprocess.Popen) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # bwrap's sandbox dies with it (--die-with-parent)
        except (ProcessLookupError, PermissionError):
            pass
        process.wait()

    # -- evaluation

    def run(self, code: str | bytes, inputs: Sequence[Grid], *, timeout_s: float | None = None) -> list[Outcome]:
        """Run ``solve`` from ``code`` on each input; one :class:`Outcome` per input, in order."""
        if not inputs:
            return []
        source, problem = _source_text(code)
        if problem:
            return [Outcome("invalid_code", message=problem)] * len(inputs)
        return self._call({"code": source, "inputs": [list(map(list, g)) for g in inputs]}, len(inputs), timeout_s)

    def test_function(self, code: str | bytes, *, entry_point: str, tests: str, setup: str = "",
                      timeout_s: float | None = None) -> Outcome:
        """Judge a CODE answer: ``ok`` when ``tests`` run to the end against the function ``entry_point``.

        The answer (``code``, which must compile on its own) runs in one confined process; ``setup``
        then ``tests`` run in another, where ``entry_point`` names a stub that sends the arguments to
        the answer's process and returns what it sends back. Both ways only plain data crosses
        (None, bool, int, float, str, bytes, and lists, tuples, dicts and sets of them), so nothing
        the answer builds takes part in a comparison, and no line of the answer runs where the
        verdict is decided. ``exception`` (a failed assert included), ``timeout`` (``timeout_s`` for
        the whole judgement), ``memory``, ``invalid_code`` or ``crash`` otherwise; ``grid`` is None.
        """
        source, problem = _source_text(code)
        if problem:
            return Outcome("invalid_code", message=problem)
        if not entry_point.isidentifier():
            return Outcome("invalid_code", message=f"{entry_point!r} is not a function name")
        fields = {"entry": "function", "code": source, "entry_point": entry_point, "setup": setup, "tests": tests,
                  "inputs": [None]}
        [outcome] = self._call(fields, 1, timeout_s, program=True)
        return outcome

    def _call(self, fields: dict, count: int, timeout_s: float | None, *, program: bool = False) -> list[Outcome]:
        config = self.config if timeout_s is None else SandboxConfig(**{**self.config.model_dump(), "timeout_s": timeout_s})
        with self._lock:
            for attempt in (1, 2):
                if self._process is None or self._process.poll() is not None:
                    if self._process is not None:
                        self.restarts += 1
                        self.close()
                    self._process = self._start()
                self._next_id += 1
                request = {"id": self._next_id, **fields, "timeout_s": config.timeout_s, "output_limit": config.output_limit,
                           "memory_bytes": self._memory_base + config.memory_mb * 1024 * 1024,
                           "file_bytes": config.file_limit_mb * 1024 * 1024}
                reply = self._exchange(request, config, count)
                if reply is None:
                    self.close()
                    self.restarts += 1
                    return [Outcome("crash", message="the sandbox worker stopped responding; it was replaced")] * count
                if "replace" not in reply:
                    break
                # the worker is no longer fit (and ran nothing): a fresh one runs this same request
                self.close()
                self.restarts += 1
                if attempt == 2:
                    why = printable(str(reply["replace"]), limit=300, one_line=True)
                    return [Outcome("crash", message=f"the sandbox worker failed twice ({why})")] * count
            self.last_stdout = printable(reply.get("stdout", ""), limit=config.output_limit)
            children = reply.get("children")
            self.last_children = children if type(children) is int else 0
            return [self._to_outcome(raw, program=program) for raw in self._outcome_list(reply, count)]

    def _exchange(self, request: dict, config: SandboxConfig, count: int) -> dict | None:
        process = self._process
        try:
            process.stdin.write((json.dumps(request) + "\n").encode())
            process.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        # Each input may take its full timeout, plus a fork; the worker may first settle the last evaluation.
        deadline = time.monotonic() + count * (config.timeout_s + 1.0) + _SETTLE_SLACK_S
        reply = self._read_line(process, deadline)
        if reply is None or reply.get("id") != request["id"]:
            return None
        return reply

    @staticmethod
    def _read_line(process: subprocess.Popen, deadline: float) -> dict | None:
        fd = process.stdout.fileno()
        data = b""
        while not data.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk or len(data) + len(chunk) > _REPLY_LIMIT:
                return None
            data += chunk
        return parse_reply(data)

    @staticmethod
    def _outcome_list(reply: dict, count: int) -> list:
        raw = reply.get("outcomes")
        if not isinstance(raw, list) or len(raw) != count:
            return [{"kind": "crash", "message": str(reply.get("error", "malformed reply from the sandbox"))}] * count
        return raw

    @staticmethod
    def _to_outcome(raw, *, program: bool = False) -> Outcome:
        """Trust nothing from the worker: kinds, messages and grids are checked here."""
        if not isinstance(raw, dict) or raw.get("kind") not in OUTCOME_KINDS:
            return Outcome("crash", message="malformed outcome from the sandbox")
        message = printable(raw.get("message") or "", limit=_MESSAGE_LIMIT, one_line=True)
        if raw["kind"] != "ok" or program:
            return Outcome(raw["kind"], message=message)
        grid = raw.get("grid")
        problem = grid_problem(grid)
        if problem:
            return Outcome("bad_shape" if "ragged" in problem or "at most" in problem else "not_grid", message=problem)
        return Outcome("ok", grid=grid)


def check_sandbox(config: SandboxConfig | None = None) -> None:
    """Start and stop one sandbox worker: SandboxUnavailable (one line, with the fix) where this
    machine cannot confine solvers. Stages call it before Ray starts, so a missing bubblewrap
    costs one line, not a failed record per task."""
    with Sandbox(config) as sandbox:
        sandbox.run("def solve(grid):\n    return grid\n", [[[0]]])


def _source_text(code: str | bytes) -> tuple[str, str]:
    """Solver source as text, or ("", why it is not valid source)."""
    if isinstance(code, (bytes, bytearray)):
        try:
            code = bytes(code).decode("utf-8")
        except UnicodeDecodeError as error:
            return "", f"the source is not UTF-8 text (byte {error.start}); save it as UTF-8"
    if not isinstance(code, str):
        return "", f"the source is a {type(code).__name__}, not text"
    try:
        code.encode("utf-8")
    except UnicodeEncodeError as error:
        return "", f"the source holds an undecodable character at position {error.start}; save it as UTF-8"
    return code, ""


def _template_pid(process: subprocess.Popen, *, confined: bool) -> int:
    """The warm template's pid on this side: the supervisor's child (the supervisor is bwrap's only
    child when confined, ``--as-pid-1``). Its size is what every evaluation starts from."""
    pid = process.pid
    for _ in range(2 if confined else 1):
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        if not children:
            return pid
        pid = int(children[0])
    return pid


def _address_space(pid: int) -> int:
    """The warm worker's address space in bytes: the memory limit is counted beyond it."""
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 256 * 1024 * 1024  # a warm interpreter with numpy is about this size
    return pages * os.sysconf("SC_PAGE_SIZE")


def _warn_unconfined() -> None:
    global _warned_unconfined
    if not _warned_unconfined:
        _warned_unconfined = True
        warn(f"the sandbox runs solvers UNCONFINED (bubblewrap missing, {confine.UNCONFINED_ENV}=1): "
             "only Python-level guards stand between untrusted code and this machine")
