"""Prompt templates, versioned with the code as files beside it, filled per task.

Every role (Analyst, Programmer, Refiner) and every generation follows the configured style:
``render.prompt`` picks the full or compact template and system prompt, and ``render.library``
adds arcdsl's catalogue (full) or its one-line menu (compact, in the system prompt).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from string import Template
from typing import Iterable

from arcray.arc.exemplars import pool_at, render_exemplars, shown
from arcray.arc.facts import train_pairs
from arcray.solver.program import fit as program_fit
from arcray.arc.fitness import FitnessResult
from arcray.arc.render import RenderConfig, render_grid, render_task
from arcray.arc.tasks import Task
from arcray.llm.types import Message

MAX_FEEDBACK_GRID_SIDE = 30


@lru_cache(maxsize=None)
def template(name: str) -> Template:
    return Template(resources.files("arcray.civilization.templates").joinpath(f"{name}.txt").read_text())


def _chat(user: str, render: RenderConfig | None = None) -> list[Message]:
    compact = render is not None and render.prompt == "compact"
    system = template("system_compact" if compact else "system").template.strip()
    if compact and render.library:
        system += "\nFunctions: " + _menu()
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


@lru_cache(maxsize=None)
def _menu() -> str:
    """The search's primitives as ``name(grid, parameters)``: the compact prompt's library, in one line."""
    import inspect

    from arcray.solver.primitives import PRIMITIVES

    calls = []
    for name, primitive in sorted(PRIMITIVES.items()):
        parameters = list(inspect.signature(inspect.unwrap(primitive.function)).parameters)
        calls.append(f"{name}({', '.join(parameters)})")
    return "; ".join(calls)


@lru_cache(maxsize=None)
def _library() -> str:
    import arcdsl

    return template("library").substitute(catalogue=arcdsl.catalogue())


def _specification(spec: str) -> str:
    return f"\nSpecification from the analyst:\n{spec.strip()}\n" if spec.strip() else ""


def _styled(name: str, render: RenderConfig) -> Template:
    return template(f"{name}_compact" if render.prompt == "compact" else name)


def _fit_on(task: Task):
    """A program's fit on the task's train pairs (never a test output), for listing exemplars by fit."""
    pairs = train_pairs(task)
    return lambda steps: program_fit(steps, pairs)


def first_listed_solves(task: Task, render: RenderConfig) -> bool:
    """Whether the first exemplar a student's prompt lists for ``task``, run as it is (no model), gets every test
    output: the retrieval baseline a student's solved count is read against (what copying the list's top reaches)."""
    listed = shown(pool_at(render.exemplar_pool), task, render.exemplars, order=render.exemplar_order, fit=_fit_on(task))
    if not listed or not task.has_test_outputs:
        return False
    return all(program_fit(listed[0], [(pair.input, pair.output)])[0] == 1.0 for pair in task.test)


def analyst_prompt(task: Task, render: RenderConfig) -> list[Message]:
    return _chat(_styled("analyst", render).substitute(task=render_task(task, render)).rstrip(), render)


def programmer_prompt(task: Task, spec: str, render: RenderConfig, *, own: tuple[str, ...] | None = None,
                      exclude: Iterable[str] = ()) -> list[Message]:
    """The Programmer's prompt; the compact one (a student's) is the task and one line (plus the spec, if any).

    With ``render.exemplars`` it ends with the programs of the nearest training-side tasks; a training
    example passes its ``own`` answer (listed among them) and its source task to ``exclude``."""
    listed = render_exemplars(shown(pool_at(render.exemplar_pool), task, render.exemplars, own=own, exclude=exclude,
                                     order=render.exemplar_order, fit=_fit_on(task)))
    listed = f"\n\n{listed}" if listed else ""
    if render.prompt == "compact":
        user = template("programmer_compact").substitute(task=render_task(task, render)).rstrip() + _specification(spec)
        return _chat(user + listed, render)
    user = template("programmer").substitute(task=render_task(task, render), specification=_specification(spec))
    return _chat(user + (_library() if render.library else "") + listed)


def refiner_prompt(task: Task, spec: str, code: str, result: FitnessResult | None, render: RenderConfig, *, grids: bool) -> list[Message]:
    """The Refiner's prompt, in the same style as the Programmer's (compact: the compact template and system
    prompt; full with ``render.library``: arcdsl's catalogue after it)."""
    user = _styled("refiner", render).substitute(
        task=render_task(task, render),
        specification=_specification(spec),
        code=code.strip(),
        feedback=train_feedback(result, render, grids=grids),
    )
    if render.prompt != "compact" and render.library:
        user += _library()
    return _chat(user, render)


def train_feedback(result: FitnessResult | None, render: RenderConfig, *, grids: bool) -> str:
    """Per demonstration pair: the failure, or expected vs produced grid. Test outputs are never shown."""
    if result is None:
        return "- the answer held no python block defining solve(grid)"
    lines = []
    for example in result.examples:
        if example.split != "train":
            continue
        lines.append(f"- {example.feedback()}")
        if grids and example.outcome.ok and not example.correct and example.expected is not None:
            lines.append(f"  expected:\n{_indent(render_grid(example.expected, render))}")
            lines.append(f"  produced:\n{_indent(render_grid(example.outcome.grid, render))}")
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
