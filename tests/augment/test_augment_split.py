"""`arcray prepare` through augmentation: stats by kind, and no held-out task on the training side."""

from __future__ import annotations

import json

import pytest

from arcray.arc.attempt import ATTEMPTS
from arcray.arc.render import RenderConfig, render_grid
from arcray.arc.sandbox import SandboxConfig
from arcray.arc.tasks import load_tasks
from arcray.augment import AugmentConfig
from arcray.pipelines.teachers import SearchCollectionTeacher, SearchTeacherConfig
from arcray.runtime.rundir import RunDir
from arcray.runtime.stage import StageRun
from arcray.training.prepare import PrepareConfig, in_validation, run_prepare

TASKS = ["1e0a9b12", "3c9b0459", "67a3c6ac", "68b16354", "6150a2bd", "0d3d703e", "025d127b", "a416b8f3",
         "d511f180", "b1948b0a", "c8f0f002", "74dd1130"]


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """A collection run directory as `arcray collect` writes it, from the real search teacher."""
    root = tmp_path_factory.mktemp("collection")
    teacher = SearchCollectionTeacher(SearchTeacherConfig(max_expansions=2500, alternatives=2, explored=2), SandboxConfig())
    # claimed as a collect run, so that prepare reads the task source and threshold from its manifest
    with StageRun(root / "collect", "collect", config={"tasks": "arc1/train", "min_fitness": 1.0}) as stage:
        try:
            with stage.run.appender(ATTEMPTS) as out:
                for task in load_tasks("arc1/train", ids=TASKS):
                    out.append(teacher.attempt(task).to_json())
        finally:
            teacher.close()
        stage.finish(outputs=[ATTEMPTS], exports={"tasks": "arc1/train", "min_fitness": 1.0})
    return root


def prepared(root, name, **engine):
    config = PrepareConfig(sources=[root / "collect"], out=root / name, val_fraction=0.3, seed=0,
                           render=RenderConfig(prompt="compact", test_inputs=False),
                           augment=AugmentConfig(**{"symmetries": 7, "colour_permutations": 2, "hindsight": 2,
                                                  "synthetic": 40, **engine}))
    stats = run_prepare(config)
    rows = {split: [json.loads(line) for line in (root / name / f"{split}.jsonl").read_text().splitlines()]
            for split in ("train", "validation")}
    return stats, rows


def test_nothing_derived_from_a_held_out_task_reaches_training(collection):
    stats, rows = prepared(collection, "data")
    held_out = [t for t in load_tasks("arc1/train", ids=TASKS) if in_validation(f"arc/{t.id}", 0.3, 0)]
    assert held_out, "the split must hold some task out for this test to mean anything"
    assert {r["kind"] for r in rows["validation"]} == {"arc/solved"}
    train_text = "\n".join(m["content"] for r in rows["train"] for m in r["messages"])
    for task in held_out:
        assert all(r["group"] != f"arc/{task.id}" for r in rows["train"])
        for example in (*task.train, *task.test):  # not even its grids, turned or recoloured ones aside
            assert render_grid(example.input) not in train_text
    kinds = {k.removeprefix("arc/") for k in stats["by_kind_train"]}
    assert {"solved", "symmetry", "colour", "hindsight", "synthetic"} <= kinds
    assert sum(stats["by_kind"].values()) == stats["examples"] == len(rows["train"]) + len(rows["validation"])


def test_the_training_split_is_capped_solved_first_then_derived_kind_by_kind(collection):
    stats, _ = prepared(collection, "uncapped", synthetic=0)
    solved = stats["by_kind_train"]["arc/solved"]
    assert solved >= 4 and stats["train"] - solved >= 4
    config = PrepareConfig(sources=[collection / "collect"], out=collection / "capped", val_fraction=0.3, seed=0,
                           render=RenderConfig(prompt="compact", test_inputs=False),
                           augment=AugmentConfig(symmetries=7, colour_permutations=2, hindsight=2), max_train_examples=8)
    small = run_prepare(config)
    assert small["train"] == 8 and small["by_kind_train"]["arc/solved"] == 4
    assert small["dropped_over_max_train_examples"] == stats["train"] - 8
    derived_kinds = {k for k in stats["by_kind_train"] if k != "arc/solved"}
    # the derived share is drawn kind by kind: the most numerous kind (symmetries) does not crowd out the others
    assert len(set(small["by_kind_train"]) - {"arc/solved"}) == min(4, len(derived_kinds))
    leaning = run_prepare(config.model_copy(update={"out": collection / "capped-solved", "solved_share": 0.75}))
    assert leaning["train"] == 8 and leaning["by_kind_train"]["arc/solved"] == 6


def test_the_student_learns_a_few_lines_over_arcdsl(collection):
    _, rows = prepared(collection, "answers", synthetic=0)
    answer = next(r for r in rows["train"] if r["kind"] == "arc/solved")["messages"][-1]["content"]
    assert answer.startswith("```python\nfrom arcdsl import *\n") and answer.count("\n") <= 10
    prompt = next(r for r in rows["train"] if r["kind"] == "arc/solved")["messages"][1]["content"]
    assert "Test 1" not in prompt and prompt.endswith("Write solve(grid) for this task with arcdsl.")


def test_the_exported_dataset_carries_standalone_numpy_solvers(collection):
    from arcray.arc.attempt import attempts_from_json
    from arcray.arc.sandbox import Sandbox
    from arcray.pipelines.collect import exported

    run = RunDir(collection / "collect")
    solved = [a for a in attempts_from_json(run.read_records(ATTEMPTS)) if a.solved][:3]
    assert solved
    tasks = {t.id: t for t in load_tasks("arc1/train", ids=[a.task_id for a in solved])}
    with Sandbox() as sandbox:
        for attempt in solved:
            row = exported(attempt)
            assert "\nimport numpy as np\n" in row["solver_code"] and "arcdsl" not in row["solver_code"]
            task = tasks[attempt.task_id]
            outcomes = sandbox.run(row["solver_code"], [e.input for e in task.test])
            assert [o.grid for o in outcomes] == [e.output for e in task.test]


def test_exemplars_come_from_the_training_side_and_a_training_prompt_lists_its_own_answer(collection):
    from arcray.arc.exemplars import HEADING, POOL_FILE, load_pool, program_steps
    from arcray.civilization import prompts

    config = PrepareConfig(sources=[collection / "collect"], out=collection / "exemplars", val_fraction=0.3, seed=0,
                           render=RenderConfig(prompt="compact", test_inputs=False, exemplars=3),
                           augment=AugmentConfig(symmetries=2, colour_permutations=1, hindsight=0, synthetic=0))
    stats = run_prepare(config)
    pool = load_pool(collection / "exemplars" / POOL_FILE)
    assert len(pool) == stats["exemplar_pool"] >= 3
    held_out = {t for t in TASKS if in_validation(f"arc/{t}", 0.3, 0)}
    assert held_out and not {e.task for e in pool} & held_out  # a held-out task's program is never an exemplar
    rows = [json.loads(line) for line in (collection / "exemplars" / "train.jsonl").read_text().splitlines()]
    for row in rows:
        prompt, answer = row["messages"][-2]["content"], row["messages"][-1]["content"]
        listed = prompt.split(HEADING, 1)[1]
        own = "\n".join(f"    {line}" for line in program_steps(answer.strip("`").removeprefix("python")))
        assert own in listed, row["id"]
        assert 2 <= listed.count("grid = ") and len(listed.strip().split("\n\n")) == 3
    # Evaluation renders a held-out task from the same pool: three other tasks' programs, never its own.
    render = config.render.model_copy(update={"exemplar_pool": str(collection / "exemplars" / POOL_FILE)})
    for task in load_tasks("arc1/train", ids=sorted(held_out)):
        listed = prompts.programmer_prompt(task, "", render)[-1]["content"].split(HEADING, 1)[1]
        assert len(listed.strip().split("\n\n")) == 3


def test_with_own_shown_zero_a_training_prompt_is_rendered_as_a_held_out_tasks_is(collection):
    """``own_shown``: the share of training prompts that list their own answer; the rest list the nearest programs
    only, exactly the prompt evaluation renders for a held-out task (seeded per example, the same on a re-run)."""
    from arcray.arc.exemplars import HEADING, POOL_FILE
    from arcray.civilization import prompts

    def rows(name, share):
        config = PrepareConfig(sources=[collection / "collect"], out=collection / name, val_fraction=0.3, seed=0,
                               own_shown=share, render=RenderConfig(prompt="compact", test_inputs=False, exemplars=3),
                               augment=AugmentConfig(symmetries=1, colour_permutations=0, hindsight=0, synthetic=0))
        run_prepare(config)
        render = config.render.model_copy(update={"exemplar_pool": str(collection / name / POOL_FILE)})
        return render, [json.loads(line) for line in (collection / name / "train.jsonl").read_text().splitlines()]

    render, never = rows("own-never", 0.0)
    tasks = {t.id: t for t in load_tasks("arc1/train", ids=TASKS)}
    solved = [row for row in never if row["kind"] == "arc/solved"]
    assert solved
    for row in solved:  # the teacher's own solutions: their prompt is the evaluation prompt of their task
        task = tasks[row["id"].removeprefix("arc/")]
        assert row["messages"][:-1] == prompts.programmer_prompt(task, "", render), row["id"]
    _, always = rows("own-always", 1.0)
    _, half = rows("own-half", 0.5)
    assert [r["messages"] for r in half] == [r["messages"] for r in rows("own-half-again", 0.5)[1]]  # seeded
    differs = sum(a["messages"] != n["messages"] for a, n in zip(always, never))
    assert differs and 0 < sum(h["messages"] == a["messages"] for h, a in zip(half, always)) < len(half)
    assert len(always) == len(never) == len(half)
    assert all(HEADING in r["messages"][-2]["content"] for r in never)
