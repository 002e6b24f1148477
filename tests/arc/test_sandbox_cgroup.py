"""The optional cgroup v2 layer around a sandbox worker (arcray.arc.sandbox.cgroup).

Runs where this machine has a cgroup v2 hierarchy this user may create cgroups in; the caps
themselves are checked only where that hierarchy has the memory, pids and cpu controllers
enabled (on a hybrid v1/v2 host they belong to the v1 hierarchies, and only the mechanics run).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from arcray.arc.sandbox import Sandbox, SandboxUnavailable
from arcray.arc.sandbox.pool import _template_pid

GOOD = "def solve(grid):\n    return [row[::-1] for row in grid]\n"


def _writable_cgroup2() -> str | None:
    for line in Path("/proc/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) > 2 and fields[2] == "cgroup2" and os.access(fields[1], os.W_OK):
            return fields[1]
    return None


ROOT = _writable_cgroup2()
needs_cgroup2 = pytest.mark.skipif(ROOT is None, reason="no writable cgroup v2 hierarchy here")


@needs_cgroup2
def test_the_worker_runs_inside_its_own_cgroup_and_it_goes_with_the_sandbox():
    with Sandbox(timeout_s=2.0, memory_mb=256, cgroup=ROOT) as sandbox:
        assert sandbox.run(GOOD, [[[1, 2]]])[0].grid == [[2, 1]]
        group = sandbox._cgroup.path
        relative = "/" + str(group.relative_to(ROOT))
        for pid in (sandbox._process.pid, _template_pid(sandbox._process, confined=sandbox.confined)):
            assert Path(f"/proc/{pid}/cgroup").read_text().splitlines()[-1] == f"0::{relative}"
        enabled = set((Path(ROOT) / "cgroup.subtree_control").read_text().split())
        assert set(sandbox.cgroup_caps) == {name for name in ("memory.max", "memory.swap.max", "pids.max", "cpu.max")
                                            if name.split(".")[0] in enabled}
    assert not group.exists()


@needs_cgroup2
def test_the_environment_variable_names_the_cgroup(monkeypatch):
    monkeypatch.setenv("ARCRAY_SANDBOX_CGROUP", ROOT)
    with Sandbox(timeout_s=2.0, memory_mb=256) as sandbox:
        sandbox.run(GOOD, [[[1]]])
        assert sandbox._cgroup is not None and sandbox._cgroup.path.parent == Path(ROOT)


def test_a_folder_that_is_not_a_cgroup_is_one_line(tmp_path):
    with pytest.raises(SandboxUnavailable) as refused:
        with Sandbox(cgroup=str(tmp_path)) as sandbox:
            sandbox.run(GOOD, [[[1]]])
    message = str(refused.value)
    assert "\n" not in message and str(tmp_path) in message and "Delegate=yes" in message
