"""Programs of similar solved tasks, shown in a student's prompt: retrieval by what the train pairs show.

A 135M student trained on a few dozen examples learns a prior over its training programs, not a
mapping from grids to programs (docs/augment.md, runs 1-19), and a prior cannot beat the base
model's favourites. What the records say does work is conditioning on the task's facts: 8
programs drawn from the training-side tasks whose size rule is the held-out task's own solve about
three times as many held-out tasks as 8 drawn from all of them. So the prompt can carry that
conditioning itself: the programs of the ``count`` training-side tasks whose facts (the output
size's rule, the colours added and removed: ``arcray.arc.facts``) are nearest the task's, and the
student learns to choose among them and adapt them (copying from the context is what a small
transformer does best). The pool is the training side's verified solvers only, written by
``arcray prepare`` to ``exemplars.json``; a task never sees its own program except as the answer of
a training example, so nothing of a held-out task reaches a prompt.

Retrieval is this file's own twenty lines rather than a vector index: the pool holds tens to
thousands of programs and the similarity is four comparisons of facts, not an embedding.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
from pathlib import Path
from typing import Callable, Iterable, Sequence

from pydantic import BaseModel, ConfigDict, ValidationError

from arcray.arc.facts import colour_changes, size_fact, train_pairs
from arcray.arc.tasks import Task
from arcray.errors import ArcrayError

POOL_FILE = "exemplars.json"
HEADING = "Programs of similar solved tasks:"


class Exemplar(BaseModel):
    """One training-side task's verified program, with the facts it is retrieved by."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    task: str
    size: str
    added: tuple[int, ...]
    removed: tuple[int, ...]
    steps: tuple[str, ...]  # the solver's body, one ``grid = f(grid, …)`` line each (no ``return``)


def facts_of(task: Task) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    pairs = train_pairs(task)
    added, removed = colour_changes(pairs)
    return size_fact(pairs), tuple(sorted(added)), tuple(sorted(removed))


def program_steps(code: str) -> tuple[str, ...]:
    """The statements of a ``solve(grid)`` source as written, one a line, without its docstring and final
    ``return grid``; () when the source does not parse or defines no ``solve``."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return ()
    solve = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "solve"), None)
    if solve is None:
        return ()
    body = list(solve.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        body = body[1:]
    if body and isinstance(body[-1], ast.Return) and isinstance(body[-1].value, ast.Name) and body[-1].value.id == "grid":
        body = body[:-1]
    return tuple(" ".join((ast.get_source_segment(code, statement) or ast.unparse(statement)).split()) for statement in body)


def in_language(steps: tuple[str, ...]) -> bool:
    """Whether a program is the student's kind (every line a ``grid = f(grid, …)`` call), fit to list as an exemplar."""
    return bool(steps) and all(line.startswith("grid = ") for line in steps)


def exemplar(task: Task, code: str) -> Exemplar:
    size, added, removed = facts_of(task)
    return Exemplar(task=task.id, size=size, added=added, removed=removed, steps=program_steps(code))


def _likeness(a: Exemplar, size: str, added: tuple[int, ...], removed: tuple[int, ...]) -> float:
    """The size rule first (it decides most of what a program can be), then each colour change."""
    return 4.0 * (a.size == size) + (a.added == added) + (a.removed == removed) + 0.5 * (bool(a.added) == bool(added))


def nearest(pool: Sequence[Exemplar], task: Task, count: int, *, exclude: Iterable[str] = ()) -> list[Exemplar]:
    """The ``count`` most alike programs of other tasks, each program once; ties go by task id (stable)."""
    size, added, removed = facts_of(task)
    skip = {task.id, *exclude}
    ranked = sorted((e for e in pool if e.task not in skip), key=lambda e: (-_likeness(e, size, added, removed), e.task))
    return _distinct(ranked, count)


Fit = Callable[[tuple[str, ...]], tuple[float, ...]]


def best_fitting(pool: Sequence[Exemplar], task: Task, count: int, *, fit: Fit, exclude: Iterable[str] = (),
                 own: tuple[str, ...] | None = None) -> list[Exemplar]:
    """The ``count`` programs of other tasks that fit the task's train pairs best, each once; facts, then task id,
    break ties. ``fit`` scores a program's steps on them (``arcray.solver.program.fit``, which the layer above
    passes in: arcray.arc knows no solver language). A training example's ``own`` answer competes too, and lands
    where its fit puts it."""
    size, added, removed = facts_of(task)
    skip = {task.id, *exclude}
    candidates = [e for e in pool if e.task not in skip]
    if own is not None:
        candidates.append(Exemplar(task=task.id, size=size, added=added, removed=removed, steps=own))
    scored = {e.steps: fit(e.steps) for e in candidates}
    ranked = sorted(candidates, key=lambda e: (*(-x for x in scored[e.steps]), -_likeness(e, size, added, removed), e.task))
    return _distinct(ranked, count)


def _distinct(ranked: Iterable[Exemplar], count: int) -> list[Exemplar]:
    chosen: list[Exemplar] = []
    for candidate in ranked:
        if len(chosen) == count:
            break
        if all(candidate.steps != c.steps for c in chosen):
            chosen.append(candidate)
    return chosen


def shown(pool: Sequence[Exemplar], task: Task, count: int, *, own: tuple[str, ...] | None = None,
          exclude: Iterable[str] = (), order: str = "facts", fit: Fit | None = None) -> list[tuple[str, ...]]:
    """What a prompt lists: the nearest programs; in a training example, its own answer among them. By facts, at a
    position fixed by the task (so the student learns to choose from the list, not to copy the first); by fit, where
    the fit puts it, as a held-out task's prompt orders its list (it fits every train pair, so near the top)."""
    if count <= 0:
        return []
    if order == "fit":
        if fit is None:
            raise ValueError("order='fit' needs the fit of a program on the task's train pairs")
        listed = [e.steps for e in best_fitting(pool, task, count, fit=fit, exclude=exclude, own=own)]
        return listed if own is None or own in listed else [own, *listed[: count - 1]]
    if own is None:
        return [e.steps for e in nearest(pool, task, count, exclude=exclude)]
    others = [e.steps for e in nearest(pool, task, count, exclude=exclude) if e.steps != own][: count - 1]
    at = int.from_bytes(hashlib.sha256(f"{task.id}:{own}".encode()).digest()[:4], "big") % (len(others) + 1)
    return [*others[:at], own, *others[at:]]


def render_exemplars(programs: Sequence[tuple[str, ...]]) -> str:
    """The block a prompt ends with: each program's lines as the solver writes them, a blank line between."""
    if not programs:
        return ""
    return HEADING + "\n" + "\n\n".join("\n".join(f"    {line}" for line in steps) for steps in programs)


def save_pool(pool: Sequence[Exemplar], path: Path) -> None:
    path.write_text(json.dumps([e.model_dump(mode="json") for e in pool], indent=1))


def pool_at(path: str | Path | None) -> tuple[Exemplar, ...]:
    """The pool a ``render.exemplar_pool`` path names, read once per process (empty for None)."""
    if not path:
        return ()
    return _pool_cached(str(Path(path).resolve()))


@functools.lru_cache(maxsize=8)
def _pool_cached(path: str) -> tuple[Exemplar, ...]:
    return load_pool(Path(path))


def load_pool(path: Path) -> tuple[Exemplar, ...]:
    """The pool ``arcray prepare`` wrote; one line naming the fix when it is missing or not a pool."""
    if not path.is_file():
        raise ArcrayError(f"no exemplar pool at {path}: pass the {POOL_FILE} that `arcray prepare` wrote in its --out "
                          "(the same prepare whose --exemplars the student was trained with)")
    try:
        return tuple(Exemplar.model_validate(e) for e in json.loads(path.read_text()))
    except (ValueError, TypeError, ValidationError) as error:
        raise ArcrayError(f"{path} is not an exemplar pool ({type(error).__name__}); write it again with `arcray prepare`") from None
