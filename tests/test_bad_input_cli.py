"""Bad input, second pass (issue 27), as a user meets it: each case through the CLI or an experiment
script, in a subprocess, ends in one line naming the problem and the fix, exit code 2, no traceback,
no control character on the terminal.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

TASK = {"train": [{"input": [[1, 2]], "output": [[2, 1]]}], "test": [{"input": [[3, 4]], "output": [[4, 3]]}]}
ROOT = Path(__file__).resolve().parents[1]


def _limited() -> None:  # the subprocess's own bounds: 3 GB of address space, 120 s of CPU
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    resource.setrlimit(resource.RLIMIT_CPU, (120, 120))


def one_line(args: list[str], *, script: bool = False, cwd: Path | None = None) -> str:
    """Run ``arcray ARGS`` (or ``python ARGS`` for a script); assert the one-line refusal; return that line."""
    command = [sys.executable, *args] if script else [sys.executable, "-m", "arcray", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, preexec_fn=_limited, cwd=cwd or ROOT)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in done.stdout + lines[0]), repr(done.stderr)
    return lines[0]


@pytest.fixture
def write(tmp_path):
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path
    return write


# ---------------------------------------------------------------- configs of the wrong shape

@pytest.mark.parametrize("teacher", ["gemini", "[gemini, flash]"])
def test_a_section_that_is_not_a_mapping(write, tmp_path, teacher):
    config = write("collect.yaml", f"tasks: arc1/train\nteacher: {teacher}\n")
    line = one_line(["collect", "--config", str(config), "--out", str(tmp_path / "run")])
    assert "teacher: a section is a mapping" in line and "indented lines" in line


@pytest.mark.parametrize("key, shown", [("1", "1"), ("on", "True")])
def test_keys_that_are_not_text(write, tmp_path, key, shown):
    config = write("collect.yaml", f"tasks: arc1/train\nteacher:\n  backend: search\nevolution:\n  {key}: 2\n")
    line = one_line(["collect", "--config", str(config), "--out", str(tmp_path / "run")])
    assert f"the key {shown} under evolution is not text" in line and "quote it" in line


def test_an_alias_bomb_inside_an_experiment_section(write, tmp_path):
    bomb = "".join(f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10))
    config = write("bomb.yaml", "collect:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + bomb)
    line = one_line(["experiments/arc_distillation.py", "--config", str(config), "--out", str(tmp_path / "run")], script=True)
    assert "aliases" in line and "write the values out" in line
    assert not (tmp_path / "run").exists()


# ---------------------------------------------------------------- task files

def test_a_cell_too_long_for_an_int(write):
    task = write("long.json", json.dumps(TASK).replace("[[1, 2]]", "[[1, " + "9" * 5000 + "]]", 1))
    assert "too long to read" in one_line(["tasks", str(task)])


@pytest.mark.parametrize("task_id", ["[/oops]", "a\x1b[2J\x1b]52;c;aGk=\x07b", "two\nlines", " ", ".", "../../etc/arcray-x", "x" * 65])
def test_task_ids_are_data_not_paths_or_markup(write, task_id):
    source = write("arc-agi_x_challenges.json", json.dumps({task_id: TASK, "fine": TASK}))
    line = one_line(["tasks", str(source)])
    assert "is not a task id" in line and "rename it" in line and "\x1b" not in line


def test_an_id_twice_in_a_kaggle_file(write):
    text = json.dumps(TASK)
    source = write("arc-agi_x_challenges.json", f'{{"ab12": {text}, "cd34": {text}, "ab12": {text}}}')
    assert "the key 'ab12' appears twice" in one_line(["tasks", str(source)])


def test_an_id_in_two_files_of_a_folder(write, tmp_path):
    write("tasks/ab12.json", json.dumps(TASK))
    write("tasks/more.json", json.dumps({"ab12": TASK}))
    line = one_line(["tasks", str(tmp_path / "tasks")])
    assert "task ab12 is defined twice" in line and "ab12.json" in line and "more.json" in line
