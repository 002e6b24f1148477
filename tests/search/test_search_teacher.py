"""The teacher's config, its records, and the checks an emitted solver passes before it is kept."""

import sys

import pytest
from pydantic import ValidationError

from arcray.search import SearchConfig, SearchTeacher, Step, emit_solver
from arcray.search.verify import open_sandbox, verify_here, verify_in_sandbox


def test_config_refuses_unknown_keys_and_bad_values():
    with pytest.raises(ValidationError, match="max_dpth"):
        SearchConfig(max_dpth=3)
    with pytest.raises(ValidationError, match="max_expansions"):
        SearchConfig(max_expansions=0)
    assert SearchConfig().max_depth == 3 and SearchConfig().max_expansions == 10_000
    assert SearchConfig().max_seconds == 600.0 and SearchConfig(max_seconds=None).max_seconds is None


@pytest.mark.parametrize("retired", [{"time_budget_s": 0.3}, {"budget_clock": "cpu"}])
def test_a_retired_time_budget_is_refused_in_one_line_naming_its_replacement(retired):
    from arcray.errors import ConfigError
    from arcray.pipelines.collect import CollectConfig

    with pytest.raises(ConfigError) as caught:
        CollectConfig.build(tasks="arc1/train", out="unused", teacher={"backend": "search", **retired})
    message = str(caught.value)
    assert "\n" not in message and f"{next(iter(retired))!r} is retired" in message and "set max_expansions" in message


def test_found_solver_is_checked_in_the_sandbox_and_recorded(train_tasks):
    with SearchTeacher(SearchConfig(sandbox=True)) as teacher:
        result = teacher.solve(train_tasks["1e0a9b12"])
    assert result.found, result.reason
    assert result.checked_in in ("sandbox", "process")
    if result.checked_in == "process":
        pytest.skip(f"no sandbox here: {teacher.sandbox_note}")
    record = result.as_record()
    assert record["program"] == ["gravity(grid, 'down')"]
    assert record["analyst_spec"] == "Let every coloured cell fall down as far as it goes."
    assert record["solver_code"].startswith("from arcdsl import *\n") and "grid = gravity(grid, 'down')" in record["solver_code"]
    assert record["train_correct"] == len(train_tasks["1e0a9b12"].train)


def test_the_teacher_keeps_other_fitting_programs_and_near_misses(train_tasks):
    with SearchTeacher(SearchConfig(max_expansions=5000, alternatives=3, explored=3)) as teacher:
        result = teacher.solve(train_tasks["1e0a9b12"])
    task = train_tasks["1e0a9b12"]
    inputs = [e.input for e in (*task.train, *task.test)]
    outputs = [e.output for e in task.train]
    assert len(result.explored) == 3 and result.program not in result.explored
    for program in result.explored:  # each ran on every input, and fits no more than some of the pairs
        verdict = verify_here(emit_solver(program), inputs, outputs)
        assert verdict.status == "failed" and all(p is not None for p in verdict.predictions)
    for program in result.alternatives:
        assert verify_here(emit_solver(program), inputs, outputs).passed


def test_a_wrong_solver_fails_verification():
    code = emit_solver((Step("flip_lr"),))
    verdict = verify_here(code, [[[1, 2]]], [[[1, 2]]])
    assert verdict.status == "failed" and "train pairs [0]" in verdict.message


def test_sandbox_rejects_a_solver_that_imports_arcray():
    sandbox = open_sandbox()
    if isinstance(sandbox, str):
        pytest.skip(sandbox)
    with sandbox:
        verdict = verify_in_sandbox(sandbox, "import arcray\ndef solve(grid):\n    return grid\n", [[[1]]], [[[1]]])
    assert verdict.status == "failed"


def test_missing_sandbox_is_a_clear_skip(monkeypatch):
    monkeypatch.setitem(sys.modules, "arcray.arc.sandbox", None)
    note = open_sandbox()
    assert isinstance(note, str) and "arcray.arc.sandbox is not importable" in note
