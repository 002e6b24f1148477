"""cgroup v2 caps around a sandbox worker, where the machine delegates a cgroup to arcray.

Without it, every cap holds per evaluation through rlimits and seccomp (one thread, RLIMIT_AS,
RLIMIT_CPU, a capped tmpfs, no memfd or shared memory: see the README's sandbox section). A
cgroup adds a second layer that also counts what rlimits cannot see (page cache, kernel memory,
tmpfs pages) and caps the worker as a whole, supervisor and template included.

``ARCRAY_SANDBOX_CGROUP`` (or ``SandboxConfig.cgroup``) names a cgroup v2 folder arcray may
create children in: systemd gives one to a unit or scope with ``Delegate=yes``; the controllers
it should cap are enabled in that folder's ``cgroup.subtree_control`` (``+memory +pids +cpu``).
Each sandbox worker gets a child cgroup of its own, with ``memory.max`` (and no swap),
``pids.max`` and ``cpu.max`` (one CPU) where those controllers are enabled, and bubblewrap is
started inside it: a shell moves itself into the cgroup, then execs bwrap, so no process of the
worker ever runs outside it. Closing the sandbox kills the cgroup (``cgroup.kill``) and removes it.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from arcray.arc.sandbox.errors import SandboxUnavailable

ENV = "ARCRAY_SANDBOX_CGROUP"
WORKER_BASE_BYTES = 512 * 1024 * 1024  # supervisor, template (numpy, arcdsl) and bwrap, with room
MAX_TASKS = 16  # bwrap, supervisor, template, two children of one thread each, and margin
CPU_MAX = "100000 100000"  # one CPU: 100 ms of every 100 ms
_CAPS = ("memory", "pids", "cpu")


@dataclass
class WorkerCgroup:
    path: Path
    caps: dict[str, str]  # the control files written, and their values

    def launch(self, command: list[str]) -> list[str]:
        """``command`` started inside this cgroup (the shell joins it, then execs the command)."""
        return ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(self.path), *command]

    def close(self) -> None:
        """Kill whatever is left in it and remove it (bounded: a cgroup that stays is left to the system)."""
        kill = self.path / "cgroup.kill"
        if kill.exists():
            try:
                kill.write_text("1")
            except OSError:
                pass
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.02)


def configured(config_value: str | None) -> str | None:
    """The delegated folder to use: the config's, else ``ARCRAY_SANDBOX_CGROUP``, else None."""
    value = config_value or os.environ.get(ENV, "").strip()
    return value or None


def create(root: str, *, memory_mb: int, scratch_mb: int) -> WorkerCgroup:
    """A child cgroup of ``root`` for one sandbox worker, its caps written; SandboxUnavailable
    (one line, with the fix) where ``root`` is not a delegated cgroup v2 folder."""
    base = Path(root)
    fix = f"give {ENV} (or sandbox.cgroup) a cgroup v2 folder delegated to this user (systemd: Delegate=yes), or unset it"
    if not (base / "cgroup.procs").is_file() or not (base / "cgroup.subtree_control").is_file():
        raise SandboxUnavailable(f"the sandbox cgroup {root} is not a cgroup v2 folder; {fix}")
    try:
        enabled = set((base / "cgroup.subtree_control").read_text().split())
        path = base / f"arcray-sandbox-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        path.mkdir()
    except OSError as error:
        raise SandboxUnavailable(f"cannot create a cgroup in {root} ({error.strerror}); {fix}") from None
    wanted = {
        "memory": {"memory.max": str(WORKER_BASE_BYTES + (2 * memory_mb + scratch_mb) * 1024 * 1024), "memory.swap.max": "0"},
        "pids": {"pids.max": str(MAX_TASKS)},
        "cpu": {"cpu.max": CPU_MAX},
    }
    caps: dict[str, str] = {}
    for controller in _CAPS:
        if controller not in enabled:
            continue
        for name, value in wanted[controller].items():
            target = path / name
            if not target.exists():
                continue
            try:
                target.write_text(value)
            except OSError as error:
                WorkerCgroup(path, caps).close()
                raise SandboxUnavailable(f"cannot set {name} in {path} ({error.strerror}); {fix}") from None
            caps[name] = value
    return WorkerCgroup(path, caps)
