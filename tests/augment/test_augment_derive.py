"""Augmentation on real ARC tasks and real sandboxes: what it derives, and what it refuses."""

from __future__ import annotations

import json

import pytest

from arcray.arc.attempt import Attempt, CandidateRecord
from arcray.arc.sandbox import Sandbox, SandboxConfig
from arcray.arc.tasks import load_tasks
from arcray.augment import AugmentConfig, derive
from arcray.augment import transforms as tf
from arcray.pipelines.teachers import SearchCollectionTeacher, SearchTeacherConfig

GRAVITY = "1e0a9b12"  # let every coloured cell fall down: not the same rule on a turned grid
ROTATE = "3c9b0459"  # rotate half a turn: the same rule on every turned grid
NOTHING = dict(symmetries=0, colour_permutations=0, alternatives=False, hindsight=0, synthetic=0)


@pytest.fixture(scope="module")
def collected():
    """The search teacher's attempts (with explored programs) on a few real tasks, as collection writes them."""
    teacher = SearchCollectionTeacher(SearchTeacherConfig(max_expansions=5000, alternatives=2, explored=3), SandboxConfig())
    try:
        tasks = load_tasks("arc1/train", ids=[GRAVITY, ROTATE, "025d127b", "0d3d703e"])
        return [(task, teacher.attempt(task)) for task in tasks]
    finally:
        teacher.close()


def by(result, kind):
    return [e for e in result.examples if e.kind == kind]


_BOX: list[Sandbox] = []


def reproduces(example) -> bool:
    """Run the example's solver once more in a sandbox of the test's own (one warm worker for the module)."""
    if not _BOX:
        _BOX.append(Sandbox())
    pairs = (*example.task.train, *example.task.test)
    outcomes = _BOX[0].run(example.code, [e.input for e in pairs])
    return all(o.ok and o.grid == e.output for o, e in zip(outcomes, pairs))


@pytest.fixture(scope="module", autouse=True)
def _close_the_box():
    yield
    while _BOX:
        _BOX.pop().close()


def test_every_symmetry_keeps_the_program_where_it_holds_and_wraps_it_where_it_does_not(collected):
    result = derive(collected, AugmentConfig(**{**NOTHING, "symmetries": 7}), SandboxConfig(), min_fitness=1.0)
    turned = {(e.source, e.how.split()[0]): e for e in by(result, "symmetry")}
    assert {how for source, how in turned if source == ROTATE} == set(tf.SYMMETRIES[1:])
    assert all("(wrapped)" not in turned[(ROTATE, s)].how for s in tf.SYMMETRIES[1:])  # rotate_180 commutes with D4
    assert "(wrapped)" not in turned[(GRAVITY, "flip_lr")].how  # falling down is the same rule mirrored
    upside_down = turned[(GRAVITY, "flip_ud")]
    assert "(wrapped)" in upside_down.how and "flip_ud(grid)" in upside_down.code  # the bare program was refused
    assert all(reproduces(e) for e in (upside_down, turned[(GRAVITY, "rotate_cw")]))


def test_a_colour_permutation_rewrites_the_programs_colours(collected):
    result = derive(collected, AugmentConfig(**{**NOTHING, "colour_permutations": 3}), SandboxConfig(), min_fitness=1.0)
    recoloured = [e for e in by(result, "colour") if e.source == "0d3d703e"]  # a pure colour map
    assert len(recoloured) == 3 and all(reproduces(e) for e in recoloured)
    assert all(e.code.count("recolour(") == 1 for e in recoloured)  # the map merged with the permutation, not wrapped around it


def test_a_derived_example_whose_program_does_not_reproduce_its_pairs_is_rejected(collected):
    task, attempt = next((t, a) for t, a in collected if t.id == ROTATE)
    forged = CandidateRecord(generation=1, origin="programmer", code="def solve(grid):\n    return grid\n",
                             train_correct=len(task.train), train_runnable=True, fitness=float(len(task.train)))
    lying = attempt.model_copy(update={"generations": [[forged]], "fitness": forged.fitness})
    result = derive([(task, lying)], AugmentConfig(**{**NOTHING, "symmetries": 3}), SandboxConfig(), min_fitness=1.0)
    assert result.examples == []
    assert result.rejected == {"solved: its program does not reproduce the train pairs": 1,
                               "symmetry: its program does not reproduce the train pairs": 3}


def test_hindsight_relabels_programs_that_ran_without_fitting(collected):
    result = derive(collected, AugmentConfig(**{**NOTHING, "hindsight": 3}), SandboxConfig(), min_fitness=1.0)
    relabelled = by(result, "hindsight")
    assert relabelled and {e.source for e in relabelled} >= {"025d127b"}  # an unsolved task gives examples too
    for example in relabelled:
        source = next(t for t, _ in collected if t.id == example.source)
        assert [e.input for e in example.task.train] == [e.input for e in source.train]
        assert all(e.output != e.input for e in (*example.task.train, *example.task.test))
        assert [e.output for e in example.task.train] != [e.output for e in source.train]
        assert reproduces(example)


def test_trivial_relabelled_outputs_are_refused():
    task = load_tasks("arc1/train", ids=[ROTATE])[0]
    constant = CandidateRecord(generation=1, origin="refiner", code="def solve(grid):\n    return [[5, 5], [5, 5]]\n",
                               train_runnable=True)
    identity = CandidateRecord(generation=1, origin="refiner", code="def solve(grid):\n    return grid\n", train_runnable=True)
    attempt = Attempt(task_id=task.id, train_total=len(task.train), generations=[[constant, identity]])
    result = derive([(task, attempt)], AugmentConfig(**{**NOTHING, "hindsight": 2}), SandboxConfig(), min_fitness=1.0)
    assert result.examples == []
    assert result.rejected == {"hindsight: an output is a single colour": 1, "hindsight: an output equals its input": 1}


def test_synthetic_tasks_run_one_tasks_program_on_anothers_inputs(collected):
    result = derive(collected, AugmentConfig(**{**NOTHING, "synthetic": 12, "seed": 1}), SandboxConfig(), min_fitness=1.0)
    made = by(result, "synthetic")
    assert made
    for example in made:
        assert example.how.startswith("the program of ") and example.how.endswith(f"on the inputs of {example.source}")
        owner = example.how.split()[3]
        assert owner != example.source and reproduces(example)


def test_random_programs_over_the_whole_dsl_become_verified_tasks(collected):
    from arcray.solver.grammar import read_program
    from arcray.augment.verify import trivial

    result = derive(collected, AugmentConfig(**{**NOTHING, "random": 40, "seed": 3}), SandboxConfig(), min_fitness=1.0)
    made = by(result, "random")
    assert len(made) >= 5 and sum(result.rejected.values()) + len(made) == 40  # each proposal kept or refused, with a reason
    assert len({(e.source, e.code) for e in made}) == len(made)  # one program may relabel two tasks' inputs
    for example in made:
        assert example.how == f"a random program on the inputs of {example.source}" and 1 <= len(read_program(example.code)) <= 2
        pairs = (*example.task.train, *example.task.test)
        assert trivial([e.input for e in pairs], [e.output for e in pairs]) is None and reproduces(example)


def test_random_programs_draw_every_call_from_its_declared_types():
    import random

    from arcray.augment.random_programs import random_program
    from arcray.solver.primitives import PRIMITIVES
    from arcray.solver.program import parse_program

    rng = random.Random(0)
    programs = [random_program(rng, [1, 2], max_steps=2) for _ in range(600)]
    names = {step.name for program in programs for step in program}
    assert names == set(PRIMITIVES)  # recolour (the search's closing map) too: the grammar allows it
    assert {len(p) for p in programs} == {1, 2}
    for program in programs:  # every one is a program the student could write: it reads back as itself
        assert parse_program([step.call_source() for step in program]) == program


def test_free_form_solvers_are_wrapped_in_source(collected):
    task = load_tasks("arc1/train", ids=["67a3c6ac"])[0]
    code = "def solve(grid):\n    return [row[::-1] for row in grid]\n"
    fitting = CandidateRecord(generation=1, origin="programmer", code=code, train_correct=len(task.train),
                              train_runnable=True, fitness=13.0)
    attempt = Attempt(task_id=task.id, train_total=len(task.train), fitness=13.0, solver_code=code, generations=[[fitting]])
    result = derive([(task, attempt)], AugmentConfig(**{**NOTHING, "symmetries": 7, "colour_permutations": 2}), SandboxConfig(), min_fitness=1.0)
    assert len(by(result, "symmetry")) == 7 and len(by(result, "colour")) == 2
    assert all(e.code.startswith(code.rstrip()) and "_solve_source" in e.code for e in result.examples if e.kind != "solved")
    assert all(reproduces(e) for e in result.examples)


def test_the_transforms_compose_like_the_square_group():
    for a in tf.SYMMETRIES:
        assert tf.compose(a, tf.inverse(a)) == ""
        for b in tf.SYMMETRIES:
            grid = [[1, 2, 3], [4, 5, 6]]
            assert tf.apply_symmetry(tf.compose(a, b), grid) == tf.apply_symmetry(b, tf.apply_symmetry(a, grid))
    mapping = {1: 2, 2: 1}
    assert tf.then_map(mapping, tf.invert(mapping)) == {}
    assert json.dumps(tf.then_map({3: 4}, {4: 5})) == json.dumps({3: 5, 4: 5})
