"""The transformations a solved task is augmented by, on grids and on programs.

- the 8 symmetries of the square (the dihedral group D4), each an arcdsl primitive (or none);
- permutations of the colours 1-9 (black, 0, stays: the DSL and ARC treat it as background).

A transformed task is every grid of the task transformed alike; its program is the source program
wrapped: undo the transformation on the input, run, redo it on the output. On DSL programs the
wrapping steps merge with the program's own first and last steps where they compose (two
symmetries into one, two colour maps into one), and colour permutations are first tried as the
program's own colour parameters rewritten (``fill_enclosed(grid, 4)`` → ``fill_enclosed(grid, 7)``),
which is what a person would write for the new task. Either way the result is re-verified in the
sandbox before it is used (:mod:`arcray.augment.verify`): these rewrites are proposals.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from arcray.arc.grid import Grid
from arcray.solver.program import Program, Step

# D4 by its arcdsl names; "" is the identity.
SYMMETRIES = ("", "rotate_cw", "rotate_180", "rotate_ccw", "flip_lr", "flip_ud", "transpose", "antitranspose")
_NUMPY = {
    "": lambda g: g,
    "rotate_cw": lambda g: np.rot90(g, -1),
    "rotate_180": lambda g: g[::-1, ::-1],
    "rotate_ccw": lambda g: np.rot90(g, 1),
    "flip_lr": lambda g: g[:, ::-1],
    "flip_ud": lambda g: g[::-1, :],
    "transpose": lambda g: g.T,
    "antitranspose": lambda g: g[::-1, ::-1].T,
}
_PROBE = np.arange(6).reshape(2, 3)  # no symmetry maps it to itself, so each is known by its image


def _name_of(image: np.ndarray) -> str:
    return next(name for name, move in _NUMPY.items() if move(_PROBE).shape == image.shape and np.array_equal(move(_PROBE), image))


def compose(first: str, then: str) -> str:
    """The one symmetry that does ``first`` and then ``then``."""
    return _name_of(_NUMPY[then](_NUMPY[first](_PROBE)))


def inverse(symmetry: str) -> str:
    return next(name for name in SYMMETRIES if compose(symmetry, name) == "")


def apply_symmetry(symmetry: str, grid: Grid) -> Grid:
    return _NUMPY[symmetry](np.array(grid)).tolist()


def random_permutation(rng: random.Random) -> dict[int, int]:
    """A permutation of the colours 1-9 that moves at least one (black stays)."""
    while True:
        colours = list(range(1, 10))
        rng.shuffle(colours)
        mapping = {old: new for old, new in zip(range(1, 10), colours)}
        if any(old != new for old, new in mapping.items()):
            return mapping


def permute_grid(mapping: dict[int, int], grid: Grid) -> Grid:
    return [[mapping.get(cell, cell) for cell in row] for row in grid]


def invert(mapping: dict[int, int]) -> dict[int, int]:
    return {new: old for old, new in mapping.items()}


def _moved(mapping: dict[int, int]) -> dict[int, int]:
    return {old: new for old, new in sorted(mapping.items()) if old != new}


def then_map(first: dict[int, int], then: dict[int, int]) -> dict[int, int]:
    """The one colour map that does ``first`` and then ``then`` (recolour maps all colours at once)."""
    return _moved({c: then.get(first.get(c, c), first.get(c, c)) for c in range(10)})


# -- programs -------------------------------------------------------------------------------


def symmetric_program(program: Program, symmetry: str) -> Program:
    """The program for the task turned by ``symmetry``: undo it, run ``program``, redo it (merged)."""
    return _merge_symmetries((Step(inverse(symmetry)),) + tuple(program) + (Step(symmetry),))


def _merge_symmetries(program: Program) -> Program:
    steps: list[Step] = []
    for step in program:
        if step.name == "":
            continue
        if step.name in _NUMPY and not step.params and steps and steps[-1].name in _NUMPY and not steps[-1].params:
            merged = compose(steps.pop().name, step.name)
            if merged:
                steps.append(Step(merged))
            continue
        steps.append(step)
    return tuple(steps)


# Parameters that name colours, by parameter name: how to map each (None passes through).
def _map_colour(value: Any, mapping: dict[int, int]) -> Any:
    return mapping.get(value, value) if isinstance(value, int) and not isinstance(value, bool) else value


_COLOUR_PARAMS = {"colour", "source", "hole", "default", "where"}


def recoloured_program(program: Program, mapping: dict[int, int]) -> Program:
    """The program with its colour parameters mapped (a proposal: verify it)."""
    from arcray.solver.primitives import PRIMITIVES

    import inspect

    steps = []
    for step in program:
        names = list(inspect.signature(inspect.unwrap(PRIMITIVES[step.name].function)).parameters)[1:]
        params = []
        for name, value in zip(names, step.params):
            if name in _COLOUR_PARAMS:
                value = _map_colour(value, mapping)
            elif name == "mapping" and isinstance(value, dict):
                value = {mapping.get(k, k): mapping.get(v, v) for k, v in value.items()}
            elif name == "colours" and isinstance(value, dict):
                value = {k: mapping.get(v, v) for k, v in value.items()}
            params.append(value)
        steps.append(Step(step.name, tuple(params)))
    return tuple(steps)


def wrapped_in_colours(program: Program, mapping: dict[int, int]) -> Program:
    """The program for the task whose colours ``mapping`` permuted: map back, run, map again (merged)."""
    steps = list(program)
    back, again = invert(mapping), mapping
    if steps and steps[0].name == "recolour":
        back = then_map(back, steps.pop(0).params[0])
    if steps and steps[-1].name == "recolour":
        again = then_map(steps.pop().params[0], again)
    head = [Step("recolour", (_moved(back),))] if _moved(back) else []
    tail = [Step("recolour", (_moved(again),))] if _moved(again) else []
    return tuple(head + steps + tail)


# -- any solver's source --------------------------------------------------------------------


def wrap_source(code: str, before: Program, after: Program) -> str:
    """Any solver's source, wrapped: ``before`` on the input, the solver, ``after`` on its output."""
    lines = ["import arcdsl as _dsl", "_solve_source = solve", "", "", "def solve(grid):"]
    lines += [f"    grid = _dsl.{step.call_source()}" for step in before]
    lines += ["    grid = _dsl.as_grid(_solve_source(_dsl.as_grid(grid).tolist()))"]
    lines += [f"    grid = _dsl.{step.call_source()}" for step in after]
    lines += ["    return grid"]
    return code.rstrip() + "\n\n\n" + "\n".join(lines) + "\n"
