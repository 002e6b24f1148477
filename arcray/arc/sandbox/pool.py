"""The caller's side of the sandbox: a warm worker process, reused between calls.

``Sandbox.run(code, inputs)`` sends the source and inputs to a warm worker
(:mod:`arcray.arc.sandbox._zygote`), which forks a confined child per evaluation.
Replies are parsed as JSON and every grid is re-validated here as plain lists of
ints, so nothing the solver built (an object whose ``__eq__`` always says True,
say) ever reaches a comparison. A worker that hangs, dies or talks nonsense is
killed with its whole process group and replaced on the next call.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Sequence

from arcray.arc.grid import Grid, grid_problem
from arcray.arc.sandbox.config import SandboxConfig
from arcray.arc.sandbox.outcome import OUTCOME_KINDS, Outcome
from arcray.errors import ArcrayError

_ZYGOTE = Path(__file__).with_name("_zygote.py")
_START_TIMEOUT_S = 60.0
_REPLY_LIMIT = 16 * 1024 * 1024
_WORKER_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT")
_SINGLE_THREADED = {k: "1" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


class SandboxUnavailable(ArcrayError):
    """The sandbox worker could not be started on this machine."""


class Sandbox:
    """Runs untrusted ``solve(grid)`` source on inputs, one confined process per evaluation.

    Thread-safe; one evaluation at a time per instance (make one per worker or actor).
    Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, config: SandboxConfig | None = None, **overrides) -> None:
        self.config = (config or SandboxConfig()).model_copy(update=overrides) if overrides else (config or SandboxConfig())
        if overrides:
            self.config = SandboxConfig(**{**self.config.model_dump(), **overrides})
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._next_id = 0
        self.restarts = 0
        self.seccomp = False
        self.last_stdout = ""

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
        """Stop the worker and everything it started."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for stream in (process.stdin, process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass

    def _start(self) -> subprocess.Popen:
        env = {k: os.environ[k] for k in _WORKER_ENV_KEEP if k in os.environ}
        env.update(_SINGLE_THREADED)
        try:
            process = subprocess.Popen(
                [sys.executable, "-I", str(_ZYGOTE)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as error:
            raise SandboxUnavailable(f"cannot start the sandbox worker ({error}); check that {sys.executable} runs") from None
        hello = self._read_line(process, time.monotonic() + _START_TIMEOUT_S)
        if not hello or not hello.get("ready"):
            self._kill(process)
            raise SandboxUnavailable(
                "the sandbox worker did not start; run `python -I -c 'import numpy'` to check that numpy imports"
            )
        self.seccomp = bool(hello.get("seccomp"))
        return process

    @staticmethod
    def _kill(process: subprocess.Popen) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        process.wait()

    # -- evaluation

    def run(self, code: str, inputs: Sequence[Grid], *, timeout_s: float | None = None) -> list[Outcome]:
        """Run ``solve`` from ``code`` on each input; one :class:`Outcome` per input, in order."""
        if not inputs:
            return []
        return self._call({"code": code, "inputs": [list(map(list, g)) for g in inputs]}, len(inputs), timeout_s)

    def run_program(self, code: str, *, timeout_s: float | None = None) -> Outcome:
        """Run a whole program (a solution, its tests, ``check(entry_point)``) in the same confinement.

        ``ok`` when it runs to the end; ``exception`` (a failed assert included), ``timeout``,
        ``memory``, ``invalid_code`` (a syntax error) or ``crash`` otherwise. ``grid`` is None.
        """
        [outcome] = self._call({"entry": "program", "code": code, "inputs": [None]}, 1, timeout_s, program=True)
        return outcome

    def _call(self, fields: dict, count: int, timeout_s: float | None, *, program: bool = False) -> list[Outcome]:
        config = self.config if timeout_s is None else SandboxConfig(**{**self.config.model_dump(), "timeout_s": timeout_s})
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                if self._process is not None:
                    self.restarts += 1
                self._process = self._start()
            self._next_id += 1
            request = {"id": self._next_id, **fields, **config.model_dump()}
            reply = self._exchange(request, config, count)
            if reply is None:
                self._kill(self._process)
                self._process = None
                self.restarts += 1
                return [Outcome("crash", message="the sandbox worker stopped responding; it was replaced")] * count
            self.last_stdout = str(reply.get("stdout", ""))[: config.output_limit]
            return [self._to_outcome(raw, program=program) for raw in self._outcome_list(reply, count)]

    def _exchange(self, request: dict, config: SandboxConfig, count: int) -> dict | None:
        process = self._process
        try:
            process.stdin.write((json.dumps(request) + "\n").encode())
            process.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        # Each input may take its full timeout, plus a fork and some slack.
        deadline = time.monotonic() + count * (config.timeout_s + 1.0) + 10.0
        reply = self._read_line(process, deadline)
        if reply is None or reply.get("id") != request["id"]:
            return None
        return reply

    @staticmethod
    def _read_line(process: subprocess.Popen, deadline: float) -> dict | None:
        stream = process.stdout
        fd = stream.fileno()
        data = b""
        while not data.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk or len(data) + len(chunk) > _REPLY_LIMIT:
                return None
            data += chunk
        try:
            message = json.loads(data)
        except ValueError:
            return None
        return message if isinstance(message, dict) else None

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
        message = str(raw.get("message") or "")[:2000]
        if raw["kind"] != "ok" or program:
            return Outcome(raw["kind"], message=message)
        grid = raw.get("grid")
        problem = grid_problem(grid)
        if problem:
            return Outcome("bad_shape" if "ragged" in problem or "at most" in problem else "not_grid", message=problem)
        return Outcome("ok", grid=grid)
