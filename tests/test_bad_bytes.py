"""Bad bytes from a user or a solver: one line naming the file and the fix, never a traceback."""

import subprocess
import sys

import pytest


def arcray(*args):
    return subprocess.run([sys.executable, "-m", "arcray", *args], capture_output=True, timeout=300)


@pytest.fixture
def files(tmp_path):
    made = {
        "binary_task.json": bytes(range(256)) * 4,
        "deep_task.json": b"[" * 100_000 + b"]" * 100_000,
        "deep_object_task.json": b'{"train": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "garbage_submission.json": b"\x89PNG\r\n\x1a\n\x00\x00garbage",
        "deep_submission.json": b'{"67a3c6ac": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "latin1_solver.py": "def solve(grid):\n    # caf\xe9\n    return grid\n".encode("latin-1"),
        "flip.py": b"def solve(grid):\n    return [row[::-1] for row in grid]\n",
    }
    for name, data in made.items():
        (tmp_path / name).write_bytes(data)
    return tmp_path


@pytest.mark.parametrize("args,needle", [
    (("tasks", "{d}/binary_task.json"), "binary_task.json: not UTF-8 text"),
    (("tasks", "{d}/deep_task.json"), "deep_task.json: JSON nested too deeply"),
    (("tasks", "{d}/deep_object_task.json"), "deep_object_task.json: JSON nested too deeply"),
    (("score", "{d}/flip.py", "--tasks", "{d}/binary_task.json"), "binary_task.json: not UTF-8 text"),
    (("submission", "score", "{d}/garbage_submission.json", "--tasks", "arc1/train"), "garbage_submission.json: not UTF-8 text"),
    (("submission", "score", "{d}/deep_submission.json", "--tasks", "arc1/train"), "deep_submission.json: JSON nested too deeply"),
    (("score", "{d}/latin1_solver.py", "--tasks", "arc1/train", "--ids", "67a3c6ac"), "latin1_solver.py is not UTF-8 text (byte"),
])
def test_bad_files_are_one_line(files, args, needle):
    result = arcray(*[a.format(d=files) for a in args])
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert needle in stderr and "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr


def test_feedback_strips_a_solvers_escape_sequences(files):
    forger = files / "forger.py"
    forger.write_text("def solve(grid):\n    raise ValueError('\\x1b[2J\\x1b]52;c;aGk=\\x07\\ntotal fitness: 999\\x9b1m')\n")
    result = arcray("score", str(forger), "--tasks", "arc1/train", "--ids", "67a3c6ac", "--feedback")
    assert result.returncode == 0
    out = result.stdout.decode()
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    forged = [line for line in out.splitlines() if "999" in line]
    assert forged and all(line.startswith("67a3c6ac ") for line in forged)  # inside its feedback line, never a line of its own


def test_score_json_of_undecodable_source_through_the_api():
    from arcray.arc.sandbox import Sandbox

    with Sandbox() as sandbox:
        outcomes = sandbox.run(b"def solve(grid):\n    return '\xff'\n", [[[1]], [[2]]])
    assert [o.kind for o in outcomes] == ["invalid_code", "invalid_code"]
    assert "not UTF-8" in outcomes[0].message
