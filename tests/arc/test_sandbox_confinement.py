"""The operating system's confinement: present, reported, and never silently absent."""

import pytest

from arcray.arc.sandbox import Sandbox, SandboxUnavailable
from arcray.arc.sandbox.wire import nesting_depth, parse_reply

VIEW = (
    "import os, sys\n"
    "def solve(grid):\n"
    "    seen = sorted(os.listdir('/'))\n"
    "    return [[int(os.getuid() == 65534), int(not os.path.exists('/proc')), int(not os.path.exists('/etc/passwd')),\n"
    "             int(seen == ['arcray', 'dev', 'etc', 'lib', 'lib64', 'root', 'tmp', 'usr'] or 'home' not in seen)]]\n"
)


def test_the_worker_runs_confined_as_nobody_without_proc_or_etc():
    with Sandbox() as sandbox:
        [outcome] = sandbox.run(VIEW, [[[0]]])
        assert sandbox.confined and sandbox.seccomp
    assert outcome.grid == [[1, 1, 1, 1]], outcome


def test_without_bubblewrap_untrusted_code_is_refused_with_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap to be found
    monkeypatch.delenv("ARCRAY_ALLOW_UNCONFINED", raising=False)
    with Sandbox() as sandbox, pytest.raises(SandboxUnavailable) as error:
        sandbox.run("def solve(grid):\n    return grid\n", [[[1]]])
    message = str(error.value)
    assert "bubblewrap" in message and "apt-get install bubblewrap" in message and "ARCRAY_ALLOW_UNCONFINED=1" in message
    assert "\n" not in message


def test_opting_in_runs_unconfined_and_says_so(monkeypatch, tmp_path, capfd):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("ARCRAY_ALLOW_UNCONFINED", "1")
    import arcray.arc.sandbox.pool as pool

    monkeypatch.setattr(pool, "_warned_unconfined", False)
    with Sandbox() as sandbox:
        assert sandbox.run("def solve(grid):\n    return grid\n", [[[1]]])[0].grid == [[1]]
        assert not sandbox.confined
        scratch = sandbox._scratch
    assert "UNCONFINED" in capfd.readouterr().err
    assert scratch and not __import__("os").path.exists(scratch)  # its private folder went with it


def test_deep_replies_are_refused_before_parsing():
    deep = b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    assert nesting_depth(deep) == 5001
    assert parse_reply(deep) is None
    assert nesting_depth(b'{"s": "[[[[[[[[[[", "g": [[1]]}') == 3  # brackets inside strings do not count
    assert parse_reply(b'{"outcomes": [{"grid": [[1, 2]]}]}') == {"outcomes": [{"grid": [[1, 2]]}]}
    assert parse_reply(b"\xff\xfe garbage") is None


def test_a_collection_without_bubblewrap_stops_in_one_line_before_ray_starts(monkeypatch, tmp_path):
    import subprocess
    import sys

    env = {**__import__("os").environ, "PATH": str(tmp_path), "RAY_ADDRESS": ""}
    env.pop("ARCRAY_ALLOW_UNCONFINED", None)
    result = subprocess.run([sys.executable, "-m", "arcray", "collect", "--tasks", "arc1/train", "--limit", "2", "--teacher",
                             "search", "--out", str(tmp_path / "run")], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2
    assert "bubblewrap" in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "run" / "attempts.jsonl").exists()
