"""Two attempts by the train pairs only, and bootstrap intervals over tasks."""

from arcray.arc.attempt import Attempt, CandidateRecord
from arcray.arc.scoring import TaskScore, figure, paired_difference, score_task, two_attempts
from arcray.arc.tasks import load_tasks

TASK = load_tasks("arc1/train", ids=["67a3c6ac"])[0]
RIGHT = [row[::-1] for row in TASK.test[0].input]


def candidate(code, train_correct, grid, runnable=True):
    return CandidateRecord(generation=1, origin="programmer", code=code, train_correct=train_correct,
                           train_runnable=runnable, test_outputs=[grid], test_correct=int(grid == RIGHT))


def test_the_two_attempts_are_the_best_two_distinct_grids_by_the_train_pairs():
    best_wrong = candidate("x", 3, [[1]])  # more train pairs right: first, though its test grid is wrong
    right = candidate("yy", 2, RIGHT)
    same_again = candidate("z", 2, [[1]])  # a repeat of the first grid is no second attempt
    attempt = Attempt(task_id=TASK.id, train_total=3, generations=[[right, same_again, best_wrong]])
    [grids] = two_attempts(attempt, 1)
    assert grids == [[[1]], RIGHT]
    score = score_task(TASK, attempt, [grids])
    assert score.solved and not score.solved_first and score.train_fit and score.runnable == 1.0


def test_the_share_of_programs_of_the_right_output_size_is_scored_per_task():
    sized = candidate("a", 0, [[2]]).model_copy(update={"train_sized": True})
    wrong_size = candidate("b", 0, [[2]]).model_copy(update={"train_sized": False})
    older = candidate("c", 0, [[2]])  # a record from before the field: not counted as sized
    attempt = Attempt(task_id=TASK.id, train_total=3, generations=[[sized, wrong_size, older, sized]])
    score = score_task(TASK, attempt, two_attempts(attempt, 1))
    assert score.sized == 0.5 and score.as_dict()["sized"] == 0.5 and score.runnable == 1.0


def test_a_test_output_never_steers_the_ranking():
    wrong_but_shorter = candidate("a", 3, [[2]])
    right_but_longer = candidate("aaaa", 3, RIGHT)
    attempt = Attempt(task_id=TASK.id, train_total=3, generations=[[right_but_longer, wrong_but_shorter]])
    assert two_attempts(attempt, 1) == [[[[2]], RIGHT]]  # shorter first, by the train pairs' tie rule, not by test_correct


def test_intervals_cover_the_mean_and_pair_the_tasks():
    values = [1.0] * 3 + [0.0] * 27
    f = figure(values)
    assert f["value"] == 0.1 and 0.0 <= f["low"] < 0.1 < f["high"] <= 0.3
    assert figure([0.0] * 10) == {"value": 0.0, "low": 0.0, "high": 0.0}
    base = [TaskScore(str(i), False, False, False, 0.0, 8) for i in range(30)]
    tuned = [TaskScore(str(i), i < 6, False, True, 1.0, 8) for i in range(30)]
    gain = paired_difference(tuned, base)
    assert gain["value"] == 0.2 and gain["low"] > 0.0  # six of thirty, paired: the interval excludes no change
