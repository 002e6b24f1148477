"""A program is a sequence of steps, each a DSL primitive with its parameters bound."""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from arcray.solver.primitives import PRIMITIVES, colour_name


@dataclass(frozen=True)
class Step:
    """One primitive applied to the grid, with its parameters after the grid, in order."""

    name: str
    params: tuple[Any, ...] = ()

    def call_source(self) -> str:
        """Return the Python expression that applies this step to `grid`."""
        return f"{self.name}({', '.join(['grid', *map(repr, self.params)])})"


Program = tuple[Step, ...]


def parse_program(calls: Sequence[str]) -> Program:
    """The program back from its recorded calls (``["gravity(grid, 'down')", …]``); ValueError if a
    call is not a known primitive applied to ``grid`` and literal parameters."""
    steps = []
    for call in calls:
        try:
            node = ast.parse(call, mode="eval").body
        except SyntaxError:
            raise ValueError(f"{call!r} is not a call") from None
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in PRIMITIVES
                and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == "grid" and not node.keywords):
            raise ValueError(f"{call!r} is not a DSL primitive applied to grid")
        try:
            params = tuple(ast.literal_eval(arg) for arg in node.args[1:])
        except ValueError:
            raise ValueError(f"{call!r} has a parameter that is not a literal") from None
        steps.append(Step(node.func.id, params))
    return tuple(steps)


def apply_step(step: Step, grid: np.ndarray) -> np.ndarray:
    """Apply one step to one grid."""
    return PRIMITIVES[step.name].function(grid, *step.params)


def run_program(program: Sequence[Step], grid: np.ndarray | list[list[int]]) -> np.ndarray:
    """Apply the steps of a program in turn to a grid."""
    current = np.array(grid)
    for step in program:
        current = apply_step(step, current)
    return current


def describe(program: Sequence[Step]) -> str:
    """Return the program's specification in plain English, one clause per step."""
    if not program:
        return "Return the grid unchanged."
    clauses = [_describe_step(step) for step in program]
    text = ", then ".join(clauses)
    return text[0].upper() + text[1:] + "."


def _describe_step(step: Step) -> str:
    primitive = PRIMITIVES[step.name]
    names = list(inspect.signature(primitive.function).parameters)[1:]
    if callable(primitive.spec):
        return primitive.spec(*step.params)
    return primitive.spec.format(**{name: _phrase(name, value) for name, value in zip(names, step.params)})


def _phrase(name: str, value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{colour_name(old)} to {colour_name(new)}" for old, new in value.items())
    if name in ("colour", "source", "hole"):
        return colour_name(value)
    return str(value)


def fit(lines: Sequence[str], pairs: Sequence[tuple[Any, Any]]) -> tuple[float, float, float]:
    """How well a program (its ``grid = f(grid, …)`` lines, or bare calls) fits demonstration pairs: the share it
    gets right, the share of the right size, the mean share of right cells. Run here, not in the sandbox: only DSL
    primitives with literal parameters parse (:func:`parse_program`), so nothing else can run. (0, 0, 0) for
    lines that are not such a program."""
    try:
        program = parse_program([line.removeprefix("grid = ") for line in lines])
    except ValueError:
        return (0.0, 0.0, 0.0)
    if not pairs:
        return (0.0, 0.0, 0.0)
    right = sized = 0
    cells = 0.0
    for source, expected in pairs:
        try:
            with np.errstate(all="ignore"):
                got = run_program(program, source)
        except Exception:  # a primitive refusing this grid (a size, a colour it needs): no fit
            continue
        want = np.asarray(expected)
        if got.shape == want.shape:
            sized += 1
            same = float((got == want).mean())
            cells += same
            right += same == 1.0
    return (right / len(pairs), sized / len(pairs), cells / len(pairs))
