"""The search: known arc1/train tasks are found, the shortest program wins, and a hopeless task stops
within its counted budget, the same way every time; the wall-clock safety cap, when hit, is recorded."""

import itertools
from dataclasses import replace

import numpy as np
import pytest

from arcray.search import SearchConfig, SearchTeacher, Step, search
from arcray.pipelines.teachers import SearchCollectionTeacher, SearchTeacherConfig
from arcray.arc.sandbox import SandboxConfig
from arcray.search.score import score_task

KNOWN = {
    "3c9b0459": (Step("rotate_180"),),
    "6150a2bd": (Step("rotate_180"),),
    "67a3c6ac": (Step("flip_lr"),),
    "68b16354": (Step("flip_ud"),),
    "74dd1130": (Step("transpose"),),
    "9dfd6313": (Step("transpose"),),
    "0d3d703e": (Step("recolour", ({1: 5, 2: 6, 3: 4, 4: 3, 5: 1, 6: 2, 8: 9, 9: 8},)),),
    "c8f0f002": (Step("recolour", ({7: 5},)),),
    "b1948b0a": (Step("recolour", ({6: 2},)),),
    "d511f180": (Step("recolour", ({5: 8, 8: 5},)),),
    "25ff71a9": (Step("shift", (1, 0)),),
}


@pytest.fixture(scope="module")
def teacher():
    with SearchTeacher(SearchConfig(sandbox=False)) as teacher:
        yield teacher


@pytest.mark.parametrize("task_id", sorted(KNOWN))
def test_finds_the_known_symmetry_and_colour_map_tasks(train_tasks, teacher, task_id):
    task = train_tasks[task_id]
    scored = score_task(teacher, task)
    assert scored.result.found, scored.result.reason
    assert scored.result.program == KNOWN[task_id]
    assert scored.solved, "the solver must also get the hidden test output right"


def test_test_outputs_are_never_read(train_tasks, teacher):
    task = train_tasks["3c9b0459"]
    hidden = replace(task, test=tuple(replace(pair, output=None) for pair in task.test))
    assert teacher.solve(hidden).program == teacher.solve(task).program


def test_prefers_the_shortest_program():
    inputs = [np.array([[1, 2, 0], [0, 0, 0]]), np.array([[3, 0, 0], [0, 4, 0]])]
    outcome = search(inputs, [grid[:, ::-1] for grid in inputs], max_depth=3)
    assert outcome.program == (Step("flip_lr"),) and outcome.budget_hit is None


def _hopeless(seed: int = 0):
    rng = np.random.default_rng(seed)
    inputs = [rng.integers(0, 10, (12, 12)) for _ in range(3)]
    outputs = [rng.integers(0, 10, (7, 9)) for _ in range(3)]
    return inputs, outputs, [rng.integers(0, 10, (12, 12))]


def test_hopeless_task_stops_after_its_expansions_the_same_way_twice():
    inputs, outputs, tests = _hopeless()
    first, second = (search(inputs, outputs, test_inputs=tests, max_depth=4, max_expansions=300, explored=3)
                     for _ in range(2))
    assert first.program is None and first.budget_hit == "expansions" and first.expansions == 300
    assert first.reason == "the budget of 300 expansions ran out"
    assert replace(first, elapsed_s=0.0) == replace(second, elapsed_s=0.0)  # explored near misses included
    assert len(first.explored) == 3
    more = search(inputs, outputs, test_inputs=tests, max_depth=4, max_expansions=600)
    assert more.expansions == 600 and more.primitive_calls > first.primitive_calls  # the count is the budget


def test_alternatives_get_a_quarter_of_the_budget_after_the_first_find(train_tasks):
    task = train_tasks["1e0a9b12"]
    grids = [np.array(e.input) for e in task.train], [np.array(e.output) for e in task.train]
    tests = [np.array(e.input) for e in task.test]
    alone = search(*grids, test_inputs=tests, max_expansions=400)
    extra = search(*grids, test_inputs=tests, max_expansions=400, max_programs=50)
    assert alone.programs == extra.programs[:1] and alone.budget_hit is None
    assert extra.expansions <= alone.expansions + 100 and extra.budget_hit in (None, "expansions")
    assert extra == replace(search(*grids, test_inputs=tests, max_expansions=400, max_programs=50), elapsed_s=extra.elapsed_s)


def test_the_wall_clock_safety_cap_is_recorded_when_hit():
    inputs, outputs, tests = _hopeless()
    ticks = itertools.count()  # a clock that advances one second per reading: the cap hits, deterministically
    outcome = search(inputs, outputs, test_inputs=tests, max_depth=4, max_expansions=10**6, max_seconds=50,
                     clock=lambda: float(next(ticks)))
    assert outcome.program is None and outcome.budget_hit == "wall" and 0 < outcome.expansions < 50
    assert outcome.reason.startswith("the wall-clock safety cap of 50 s was hit after")


def test_teacher_reports_not_found_within_its_budget_the_same_way_twice(train_tasks):
    hard = train_tasks["b775ac94"]  # objects mirrored by colour cues: far beyond this DSL
    with SearchTeacher(SearchConfig(max_expansions=500, sandbox=False)) as teacher:
        first, second = teacher.solve(hard), teacher.solve(hard)
    assert not first.found and first.solver_code == "" and first.budget_hit == "expansions"
    assert first.as_record()["expansions"] == 500
    assert replace(first, elapsed_s=0.0) == replace(second, elapsed_s=0.0)


def test_a_wall_cap_hit_is_kept_in_the_attempt_record(train_tasks):
    config = SearchTeacherConfig(max_seconds=1e-9)  # any search at all outlasts a nanosecond
    teacher = SearchCollectionTeacher(config, SandboxConfig())
    try:
        record = teacher.attempt(train_tasks["b775ac94"]).to_json()
    finally:
        teacher.close()
    assert record["solver_code"] is None
    assert any(w.startswith("search: budget_hit wall: the wall-clock safety cap") for w in record["warnings"])
