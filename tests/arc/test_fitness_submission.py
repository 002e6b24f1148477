import json

import pytest

from arcray.arc.fitness import evaluate_solver, fitness_of
from arcray.arc.sandbox import Sandbox
from arcray.arc.submission import build_submission, load_submission, score_submission, write_submission
from arcray.arc.tasks import Example, Task, load_tasks
from arcray.errors import TaskFormatError

FLIP = "def solve(grid):\n    return [row[::-1] for row in grid]\n"
IDENTITY = "def solve(grid):\n    return grid\n"


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sb:
        yield sb


def test_fitness_formula():
    assert fitness_of(3, 1) == 13.0
    assert fitness_of(0, 0) == 0.0


def test_correct_solver_on_a_real_task_scores_full_fitness(sandbox):
    task = load_tasks("arc1/train", ids=["67a3c6ac"])[0]  # mirror left-right
    result = evaluate_solver(FLIP, task, sandbox)
    assert (result.train_correct, result.test_correct) == (3, 1)
    assert result.fitness == 13.0 and result.solved and result.runnable_share == 1.0
    assert all(e.feedback().endswith("correct") for e in result.examples)


def test_wrong_solver_scores_zero_with_feedback(sandbox):
    task = load_tasks("arc1/train", ids=["67a3c6ac"])[0]
    result = evaluate_solver(IDENTITY, task, sandbox)
    assert result.fitness == 0.0 and not result.solved and result.runnable_share == 1.0
    assert "wrong cells" in result.examples[0].feedback()
    assert result.train_sized  # every grid the right size, though wrong inside
    shape = evaluate_solver("def solve(grid):\n    return [[1]]\n", task, sandbox)
    assert "wrong shape: produced 1x1" in shape.examples[0].feedback()
    assert shape.train_runnable and not shape.train_sized
    raising = evaluate_solver("def solve(grid):\n    raise KeyError('x')\n", task, sandbox)
    assert not raising.train_sized


def test_partial_fitness_counts_train_and_test_separately(sandbox):
    task = Task("t", (Example([[1, 2]], [[2, 1]]), Example([[3, 3]], [[9, 9]])), (Example([[4, 5]], [[5, 4]]),))
    result = evaluate_solver(FLIP, task, sandbox)
    assert (result.train_correct, result.test_correct, result.fitness) == (1, 1, 11.0)


def test_failures_are_reported_per_example(sandbox):
    task = load_tasks("arc1/train", ids=["67a3c6ac"])[0]
    result = evaluate_solver("def solve(grid):\n    raise KeyError('x')\n", task, sandbox)
    assert result.fitness == 0 and result.runnable_share == 0
    assert "exception: KeyError" in result.examples[0].feedback()


def test_submission_round_trip_and_score(tmp_path, sandbox):
    tasks = load_tasks("arc1/train", ids=["67a3c6ac", "3c9b0459"])
    flip = evaluate_solver(FLIP, tasks[0], sandbox).test_outputs()
    predictions = {"67a3c6ac": [[g] for g in flip]}  # nothing for 3c9b0459
    submission = build_submission(tasks, predictions)
    assert set(submission) == {"67a3c6ac", "3c9b0459"}
    assert submission["3c9b0459"] == [{"attempt_1": [[0]], "attempt_2": [[0]]}]
    path = write_submission(submission, tmp_path / "submission.json")
    score = score_submission(load_submission(path), tasks)
    assert (score.correct, score.total, score.score) == (1, 2, 0.5)


def test_second_attempt_counts():
    task = Task("t", (Example([[1]], [[1]]),), (Example([[1]], [[7]]), Example([[1]], [[8]])))
    submission = {"t": [{"attempt_1": [[0]], "attempt_2": [[7]]}, {"attempt_1": [[1]], "attempt_2": [[2]]}]}
    score = score_submission(submission, [task])
    assert (score.correct, score.total) == (1, 2)
    missing = score_submission({}, [task])
    assert missing.missing_tasks == ("t",) and missing.score == 0


def test_malformed_submission_is_one_line(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"t": {"attempt_1": [[1]]}}))
    with pytest.raises(TaskFormatError, match="task t: expected a list"):
        load_submission(path)
