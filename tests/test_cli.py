"""The `arcray` command as a user runs it: a real subprocess, its exit code, its output."""

import json
import subprocess
import sys

import pytest

FLIP = "def solve(grid):\n    return [row[::-1] for row in grid]\n"


def arcray(*args, check=True):
    result = subprocess.run([sys.executable, "-m", "arcray", *args], capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def flip_solver(tmp_path):
    path = tmp_path / "flip.py"
    path.write_text(FLIP)
    return path


def test_score_right_and_wrong_solver(flip_solver, tmp_path):
    out = json.loads(arcray("score", str(flip_solver), "--tasks", "arc1/train", "--ids", "67a3c6ac,3c9b0459", "--json").stdout)
    by_id = {r["task_id"]: r for r in out["results"]}
    assert by_id["67a3c6ac"]["fitness"] == 13 and by_id["67a3c6ac"]["test_correct"] == 1
    assert by_id["3c9b0459"]["fitness"] == 0


def test_tasks_list_and_show():
    listing = json.loads(arcray("tasks", "arc1/eval", "--limit", "3", "--json").stdout)
    assert listing["count"] == 3
    shown = arcray("tasks", "arc1/train", "--show", "67a3c6ac").stdout
    assert "Example 1" in shown and "Test 1" in shown


def test_submission_score_command(tmp_path):
    submission = {"67a3c6ac": [{"attempt_1": [[0]], "attempt_2": [[0]]}]}
    path = tmp_path / "submission.json"
    path.write_text(json.dumps(submission))
    out = json.loads(arcray("submission", "score", str(path), "--tasks", "arc1/train", "--ids", "67a3c6ac", "--json").stdout)
    assert out["score"] == 0 and out["total"] == 1


@pytest.mark.parametrize(
    "args,needle",
    [
        (("tasks", "arc1/trian"), "did you mean 'arc1/train'"),
        (("score", "missing.py", "--tasks", "arc1/train"), "cannot read solver missing.py"),
        (("score", "{solver}", "--tasks", "arc1/train", "--timeout", "0"), "--timeout"),
        (("submission", "score", "nothing.json", "--tasks", "arc1/train"), "nothing.json: cannot read"),
    ],
)
def test_bad_input_is_one_line_without_traceback(args, needle, flip_solver):
    args = [a.format(solver=flip_solver) for a in args]
    result = arcray(*args, check=False)
    assert result.returncode == 2
    assert needle in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
