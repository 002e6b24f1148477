"""Augmentation: verified examples multiplied from a collection's training-side tasks.

From each task and what its teacher wrote (an :class:`~arcray.arc.attempt.Attempt`) it derives:

- ``solved``: the teacher's solver (as the dataset has always had);
- ``alternative``: every other distinct program that fits the train pairs;
- ``symmetry`` / ``colour``: the task turned by a symmetry of the square or with its colours
  permuted, with the correspondingly transformed program (the ARChitects' augmentation);
- ``hindsight``: a program that ran on the task's inputs without fitting becomes the solution of
  the task made of those inputs and its own outputs (SOAR's and CodeIt's hindsight relabelling);
- ``synthetic``: a DSL program of one task run on another task's inputs;
- ``random``: a random well-formed program over the whole DSL run on a task's inputs
  (:mod:`arcray.augment.random_programs`), so the student sees every call, not only the solved ones.

Every derived example is run in the sandbox before it is kept: a transformed program must
reproduce its transformed train pairs and answer every test input; a relabelled one defines its
own outputs there, kept only when they are non-trivial and differ from the inputs. The caller
passes only training-side tasks, so nothing derived from a held-out task exists at all.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Callable, Sequence

from arcray.arc.attempt import Attempt, CandidateRecord
from arcray.arc.grid import Grid, colours
from arcray.arc.sandbox import Outcome, SandboxConfig
from arcray.arc.tasks import Example, Task
from arcray.augment import transforms as tf
from arcray.augment.config import AugmentConfig
from arcray.augment.random_programs import random_program
from arcray.augment.verify import Job, reproduces, run_jobs, trivial
from arcray.solver.emit import emit_solver
from arcray.solver.program import Program, Step, parse_program

KINDS = ("solved", "alternative", "symmetry", "colour", "hindsight", "synthetic", "random")


@dataclass(frozen=True)
class Derived:
    """One verified example: a task and the solver that answers it."""

    kind: str
    source: str  # the task it was derived from (its split group)
    task: Task
    code: str
    how: str  # the transformation, the relabelled candidate, or the program's own task


@dataclass
class Augmented:
    examples: list[Derived] = field(default_factory=list)
    rejected: dict[str, int] = field(default_factory=dict)  # "kind: reason" -> count

    def reject(self, kind: str, reason: str) -> None:
        key = f"{kind}: {reason}"
        self.rejected[key] = self.rejected.get(key, 0) + 1


@dataclass
class _Proposal:
    """A derived example before the sandbox has judged it."""

    kind: str
    source: Task
    inputs: tuple[Grid, ...]  # train inputs, then test inputs
    code: str
    how: str
    expected: tuple[Grid, ...] | None  # train outputs it must reproduce; None: relabelled (its outputs define the task)
    fallback: _Proposal | None = None  # tried when this one is rejected (a colour map wrapped around the program)


def _fitting(candidate: CandidateRecord, attempt: Attempt) -> bool:
    return candidate.code is not None and bool(attempt.train_total) and candidate.train_correct == attempt.train_total


def _program(candidate: CandidateRecord) -> Program | None:
    try:
        return parse_program(candidate.program) if candidate.program else None
    except ValueError:
        return None


def _emit(program: Program, docstrings: bool) -> str:
    """Library source for a program; its spec as docstring only for the full prompt style."""
    return emit_solver(program, None if docstrings else "")


def _code(program: Program | None, recorded: str, docstrings: bool) -> str:
    return _emit(program, docstrings) if program else recorded


def _inputs(task: Task) -> tuple[Grid, ...]:
    return tuple(e.input for e in task.train) + tuple(e.input for e in task.test)


def _transformed(task: Task, move: Callable[[Grid], Grid]) -> Task:
    def each(example: Example) -> Example:
        return Example(move(example.input), None if example.output is None else move(example.output))

    return Task(id=task.id, train=tuple(map(each, task.train)), test=tuple(map(each, task.test)), source=task.source)


def derive(sources: Sequence[tuple[Task, Attempt]], config: AugmentConfig, sandbox: SandboxConfig,
           *, min_fitness: float, docstrings: bool = False) -> Augmented:
    """Every verified example derived from the (training-side) ``sources``; each one's solver re-run in the sandbox.

    A task's fitting programs (solved, alternatives, augmentations) count where its attempt is in the
    dataset (``Attempt.verified(min_fitness)``); hindsight takes any task's unfit programs.
    """
    rng = random.Random(config.seed)
    proposals: list[_Proposal] = []
    programs: list[tuple[str, Program]] = []  # DSL programs that ran on their task, for synthetic tasks
    for task, attempt in sources:
        train_outputs = tuple(e.output for e in task.train)
        fitting = [c for c in attempt.candidates if _fitting(c, attempt)] if attempt.verified(min_fitness) else []
        seen_code: set[str] = set()
        for number, candidate in enumerate(fitting):
            program = _program(candidate)
            code = _code(program, candidate.code or "", docstrings)
            if code in seen_code:
                continue
            seen_code.add(code)
            kind = "solved" if number == 0 else "alternative"
            if kind == "alternative" and not config.alternatives:
                continue
            proposals.append(_Proposal(kind, task, _inputs(task), code, candidate.origin, train_outputs))
            if program:
                programs.append((task.id, program))
            if kind == "solved":
                proposals += _augmentations(task, program, candidate.code or "", config, rng, docstrings)
        unfit = [c for c in attempt.candidates if c.train_runnable and not _fitting(c, attempt) and c.code]
        for candidate in unfit[: config.hindsight]:
            program = _program(candidate)
            proposals.append(_Proposal("hindsight", task, _inputs(task), _code(program, candidate.code or "", docstrings),
                                       f"{candidate.origin} candidate relabelled", None))
            if program:
                programs.append((task.id, program))
    proposals += _synthetic(sources, programs, config, rng, docstrings)
    proposals += _random(sources, config, rng, docstrings)
    return _judge(proposals, config, sandbox)


def _augmentations(task: Task, program: Program | None, code: str, config: AugmentConfig, rng: random.Random,
                   docstrings: bool) -> list[_Proposal]:
    out = []
    for symmetry in rng.sample(tf.SYMMETRIES[1:], config.symmetries):
        turned = _transformed(task, lambda g, s=symmetry: tf.apply_symmetry(s, g))
        expected = tuple(e.output for e in turned.train)
        if program:  # first the program itself (many ARC rules do not care how the grid is turned); else wrapped
            wrapped = _emit(tf.symmetric_program(program, symmetry), docstrings)
            fallback = _Proposal("symmetry", turned, _inputs(turned), wrapped, symmetry + " (wrapped)", expected)
            out.append(_Proposal("symmetry", turned, _inputs(turned), _code(program, code, docstrings), symmetry,
                                 expected, fallback))
        else:
            wrapped = tf.wrap_source(code, (Step(tf.inverse(symmetry)),), (Step(symmetry),))
            out.append(_Proposal("symmetry", turned, _inputs(turned), wrapped, symmetry + " (wrapped)", expected))
    for _ in range(config.colour_permutations):
        mapping = tf.random_permutation(rng)
        permuted = _transformed(task, lambda g, m=mapping: tf.permute_grid(m, g))
        expected = tuple(e.output for e in permuted.train)
        how = "colours " + "".join(str(mapping[c]) for c in range(1, 10))
        wrapped = (_emit(tf.wrapped_in_colours(program, mapping), docstrings) if program else
                   tf.wrap_source(code, (Step("recolour", (tf.invert(mapping),)),), (Step("recolour", (mapping,)),)))
        fallback = _Proposal("colour", permuted, _inputs(permuted), wrapped, how + " (wrapped)", expected)
        if program:  # first the program with its own colours rewritten; the wrapped one if that does not reproduce
            rewritten = _emit(tf.recoloured_program(program, mapping), docstrings)
            out.append(_Proposal("colour", permuted, _inputs(permuted), rewritten, how, expected, fallback))
        else:
            out.append(fallback)
    return out


def _synthetic(sources: Sequence[tuple[Task, Attempt]], programs: list[tuple[str, Program]], config: AugmentConfig,
               rng: random.Random, docstrings: bool) -> list[_Proposal]:
    tasks = [task for task, _ in sources]
    if not config.synthetic or not programs or len(tasks) < 2:
        return []
    out = []
    for _ in range(config.synthetic):
        owner, program = rng.choice(programs)
        task = rng.choice([t for t in tasks if t.id != owner] or tasks)
        out.append(_Proposal("synthetic", task, _inputs(task), _emit(program, docstrings),
                             f"the program of {owner} on the inputs of {task.id}", None))
    return out


def _random(sources: Sequence[tuple[Task, Attempt]], config: AugmentConfig, rng: random.Random,
            docstrings: bool) -> list[_Proposal]:
    tasks = [task for task, _ in sources]
    out = []
    for _ in range(config.random if tasks else 0):
        task = rng.choice(tasks)
        inputs = _inputs(task)
        program = random_program(rng, sorted(set().union(*map(colours, inputs))), config.random_steps)
        out.append(_Proposal("random", task, inputs, _emit(program, docstrings),
                             f"a random program on the inputs of {task.id}", None))
    return out


def _judge(proposals: list[_Proposal], config: AugmentConfig, sandbox: SandboxConfig) -> Augmented:
    box = sandbox.model_copy(update={"timeout_s": config.timeout_s})
    result = Augmented()
    outcomes = run_jobs([Job(p.code, p.inputs) for p in proposals], box, config.workers)
    retry = [(i, p.fallback) for i, (p, o) in enumerate(zip(proposals, outcomes)) if p.fallback and _refusal(p, o)]
    if retry:
        again = run_jobs([Job(p.code, p.inputs) for _, p in retry], box, config.workers)
        for (i, fallback), fallback_outcomes in zip(retry, again):
            proposals[i], outcomes[i] = fallback, fallback_outcomes
    seen: set[tuple[str, str]] = set()
    for proposal, outcome in zip(proposals, outcomes):
        made = _example(proposal, outcome, result)
        if made is None:
            continue
        key = (json.dumps(made.task.to_json(), sort_keys=True), made.code)
        if key in seen:
            result.reject(made.kind, "a duplicate of another example")
            continue
        seen.add(key)
        result.examples.append(made)
    return result


def _refusal(proposal: _Proposal, outcomes: list[Outcome]) -> str | None:
    """Why a proposal with known outputs is refused (None: it reproduces its train pairs and answers every test input)."""
    n = len(proposal.source.train)
    if not reproduces(outcomes[:n], proposal.expected or ()):
        return "its program does not reproduce the train pairs"
    if not all(o.ok for o in outcomes[n:]):
        return "its program fails on a test input"
    return None


def _example(proposal: _Proposal, outcomes: list[Outcome], result: Augmented) -> Derived | None:
    task, n = proposal.source, len(proposal.source.train)
    if proposal.expected is not None:
        why = _refusal(proposal, outcomes)
        if why:
            result.reject(proposal.kind, why)
            return None
        return Derived(proposal.kind, task.id, task, proposal.code, proposal.how)
    if not all(o.ok for o in outcomes):
        result.reject(proposal.kind, "its program fails on an input")
        return None
    outputs = [o.grid for o in outcomes]
    why = trivial(list(proposal.inputs), outputs)
    if why:
        result.reject(proposal.kind, why)
        return None
    relabelled = Task(id=f"{task.id}.{proposal.kind}", source=task.source,
                      train=tuple(Example(i, o) for i, o in zip(proposal.inputs[:n], outputs[:n])),
                      test=tuple(Example(i, o) for i, o in zip(proposal.inputs[n:], outputs[n:])))
    return Derived(proposal.kind, task.id, relabelled, proposal.code, proposal.how)
