"""Exemplars: which programs a prompt lists, and the pool's file (real ARC tasks, no model)."""

from __future__ import annotations

import pytest

from arcray.arc.exemplars import HEADING, Exemplar, exemplar, load_pool, nearest, program_steps, save_pool, shown
from arcray.arc.render import RenderConfig
from arcray.arc.tasks import load_tasks
from arcray.civilization import prompts
from arcray.errors import ArcrayError, ConfigError
from arcray.pipelines.evaluate import EvaluateConfig

# 67a3c6ac and 68b16354 keep their size (flips), c8f0f002 too (a recolouring), 007bbfb7 grows x3 (a fractal).
TASKS = {t.id: t for t in load_tasks("arc1/train", ids=["67a3c6ac", "68b16354", "c8f0f002", "007bbfb7", "3c9b0459"])}


def solver(*lines: str, doc: str = "") -> str:
    docstring = f'    """{doc}"""\n' if doc else ""
    return "from arcdsl import *\n\n\ndef solve(grid):\n" + docstring + "".join(f"    {line}\n" for line in lines) + "    return grid\n"


POOL = (
    exemplar(TASKS["68b16354"], solver("grid = flip_ud(grid)")),
    exemplar(TASKS["c8f0f002"], solver("grid = recolour(grid, {7: 5})", doc="Recolour 7 to 5,\n    every other colour kept.")),
    exemplar(TASKS["007bbfb7"], solver("grid = fractal(grid, 'filled')")),
    exemplar(TASKS["3c9b0459"], solver("grid = rotate_180(grid)")),
)


def test_a_solvers_steps_leave_out_its_docstring_and_return():
    assert POOL[1].steps == ("grid = recolour(grid, {7: 5})",)  # a two-line docstring is not a step
    assert program_steps("def solve(grid:") == () and program_steps("x = 1") == ()


def test_the_nearest_programs_share_the_size_rule_first_and_never_the_tasks_own():
    task = TASKS["67a3c6ac"]  # same size, no colour change
    chosen = nearest(POOL, task, 2)
    assert [e.task for e in chosen] == ["3c9b0459", "68b16354"]  # same size and colours; the x3 fractal last
    assert all(e.steps != POOL[2].steps for e in nearest(POOL, task, 3))
    assert "68b16354" not in {e.task for e in nearest(POOL, TASKS["68b16354"], 4)}
    assert "3c9b0459" not in {e.task for e in nearest(POOL, task, 4, exclude=["3c9b0459"])}
    twin = POOL[0].model_copy(update={"task": "twin"})  # one program solving two tasks is listed once
    assert len(nearest((*POOL, twin), task, 4)) == 4 and len({e.steps for e in nearest((*POOL, twin), task, 4)}) == 4


def test_a_training_prompt_lists_its_own_answer_once_among_the_others():
    task = TASKS["67a3c6ac"]
    own = ("grid = flip_lr(grid)",)
    listed = shown(POOL, task, 3, own=own)
    assert len(listed) == 3 and listed.count(own) == 1
    assert shown(POOL, task, 3, own=own) == listed  # its place is fixed by the task, not drawn anew
    assert shown(POOL, task, 3, own=POOL[3].steps).count(POOL[3].steps) == 1  # an answer that is also a neighbour: once
    assert shown(POOL, task, 0, own=own) == []


def test_the_prompt_ends_with_the_listed_programs_as_the_solver_writes_them(tmp_path):
    save_pool(POOL, tmp_path / "exemplars.json")  # the config names the file; the pool never travels inside it
    render = RenderConfig(prompt="compact", test_inputs=False, exemplars=2, exemplar_pool=str(tmp_path / "exemplars.json"))
    text = prompts.programmer_prompt(TASKS["67a3c6ac"], "", render)[-1]["content"]
    assert text.endswith(f"{HEADING}\n    grid = rotate_180(grid)\n\n    grid = flip_ud(grid)")
    plain = prompts.programmer_prompt(TASKS["67a3c6ac"], "", render.model_copy(update={"exemplars": 0}))[-1]["content"]
    assert HEADING not in plain


def test_the_pool_round_trips_and_a_missing_or_bad_one_is_one_line(tmp_path):
    save_pool(POOL, tmp_path / "exemplars.json")
    assert load_pool(tmp_path / "exemplars.json") == POOL
    with pytest.raises(ArcrayError, match="arcray prepare"):
        load_pool(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text('{"task": 1}')
    with pytest.raises(ArcrayError, match="not an exemplar pool") as error:
        load_pool(tmp_path / "bad.json")
    assert "\n" not in str(error.value)


def test_evaluating_with_exemplars_and_no_pool_names_the_file_to_pass(tmp_path):
    with pytest.raises(ConfigError, match="--exemplar-pool"):
        EvaluateConfig.build(student={"backend": "hf", "model": "smollm2-135m"}, tasks="arc1/train",
                             render={"prompt": "compact", "exemplars": 4}, out=str(tmp_path))
    assert isinstance(POOL[0], Exemplar)


def test_by_fit_the_program_that_fits_the_train_pairs_is_listed_first():
    """67a3c6ac mirrors every row. By facts, flip_lr (filed under a task of another size rule) is not even listed;
    by fit it is first, the near misses (same size, some cells) after it, and a training example's own answer
    lands where its fit puts it: first."""
    task = TASKS["67a3c6ac"]
    mirror = exemplar(TASKS["007bbfb7"], solver("grid = flip_lr(grid)"))
    pool = (*POOL, mirror)
    assert mirror.steps not in shown(pool, task, 3)
    from arcray.arc.facts import train_pairs
    from arcray.solver.program import fit

    on_task = lambda steps: fit(steps, train_pairs(task))  # noqa: E731
    assert on_task(mirror.steps) == (1.0, 1.0, 1.0) and on_task(POOL[2].steps)[:2] == (0.0, 0.0)
    by_fit = shown(pool, task, 3, order="fit", fit=on_task)
    assert by_fit[0] == mirror.steps and POOL[2].steps not in by_fit  # the x3 fractal fits no pair's size
    own = ("grid = flip_lr(grid)", "grid = flip_lr(grid)", "grid = flip_lr(grid)")
    assert shown(POOL, task, 3, own=own, order="fit", fit=on_task)[0] == own
    assert shown(pool, task, 3, order="fit", fit=on_task) == by_fit  # the same list every time: nothing random


def test_the_retrieval_baseline_runs_the_first_listed_program_on_the_test_inputs(tmp_path):
    """What copying the top of the list would solve, with no model: the reports' baseline for a student's count."""
    from arcray.civilization.prompts import first_listed_solves

    pool_path = tmp_path / "exemplars.json"
    save_pool((*POOL, exemplar(TASKS["007bbfb7"], solver("grid = flip_lr(grid)"))), pool_path)
    by_fit = RenderConfig(prompt="compact", exemplars=2, exemplar_order="fit", exemplar_pool=str(pool_path))
    assert first_listed_solves(TASKS["67a3c6ac"], by_fit)  # flip_lr fits its train pairs, and its test
    assert not first_listed_solves(TASKS["67a3c6ac"], by_fit.model_copy(update={"exemplar_order": "facts"}))
    assert not first_listed_solves(TASKS["c8f0f002"], by_fit)  # a recolouring 7 -> 5: nothing listed gets it
