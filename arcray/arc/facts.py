"""What a task's demonstration pairs show at a glance: how the grid's size changes, which colours come and go.

A small student reads a line such as ``Output size: input x3 rows, x3 columns. Colours added: 2;
removed: 6.`` far more easily than it compares two digit grids, and the line names exactly what a
program's parameters copy (``upscale(grid, 3, 3)``, ``recolour(grid, {6: 2})``). It is computed
from every train pair (a solver is judged on all of them, even where the prompt shows fewer), never
from a test output, and it is the same text for every model that reads the prompt.
"""

from __future__ import annotations

from fractions import Fraction

from arcray.arc.grid import Grid, colours, shape
from arcray.arc.tasks import Task


def _factor(ratio: Fraction) -> str | None:
    """``x3``, ``/2`` or ``x1.5``; None for a ratio no scaling rule gives (3/7 is a coincidence of sizes)."""
    if ratio.denominator == 1:
        return f"x{ratio.numerator}"
    if ratio.numerator == 1:
        return f"/{ratio.denominator}"
    return f"x{float(ratio):g}" if ratio.denominator == 2 else None


def size_fact(pairs: list[tuple[Grid, Grid]]) -> str:
    """How every output's size follows from its input's: the same, a fixed scale, a fixed size, or neither."""
    shapes = [(shape(i), shape(o)) for i, o in pairs]
    if all(a == b for a, b in shapes):
        return "Output size: same as the input."
    rows = {Fraction(o[0], i[0]) for i, o in shapes}
    cols = {Fraction(o[1], i[1]) for i, o in shapes}
    if len(rows) == 1 and len(cols) == 1 and (by := (_factor(rows.pop()), _factor(cols.pop()))) and None not in by:
        return f"Output size: input {by[0]} rows, {by[1]} columns."
    outputs = {o for _, o in shapes}
    if len(outputs) == 1:
        h, w = outputs.pop()
        return f"Output size: always {h}x{w}."
    smaller = all(o[0] <= i[0] and o[1] <= i[1] for i, o in shapes)
    larger = all(o[0] >= i[0] and o[1] >= i[1] for i, o in shapes)
    return "Output size: " + ("smaller than the input, varying." if smaller else
                              "larger than the input, varying." if larger else "varying.")


def colour_changes(pairs: list[tuple[Grid, Grid]]) -> tuple[set[int], set[int]]:
    """The colours some output has that its input lacks, and the other way round."""
    added: set[int] = set()
    removed: set[int] = set()
    for grid_in, grid_out in pairs:
        seen_in, seen_out = colours(grid_in), colours(grid_out)
        added |= seen_out - seen_in
        removed |= seen_in - seen_out
    return added, removed


def colour_fact(pairs: list[tuple[Grid, Grid]]) -> str:
    """The colours added and removed, as the prompt's words."""
    added, removed = colour_changes(pairs)
    return f"Colours added: {_listed(added)}; removed: {_listed(removed)}."


def _listed(some: set[int]) -> str:
    return ", ".join(map(str, sorted(some))) or "none"


def train_pairs(task: Task) -> list[tuple[Grid, Grid]]:
    """Every train pair that has its output (what the facts are computed from; never a test output)."""
    return [(e.input, e.output) for e in task.train if e.output is not None]


def task_facts(task: Task) -> str:
    """One line about every train pair of ``task``: its size rule, then its colours."""
    pairs = train_pairs(task)
    if not pairs:
        return ""
    return f"{size_fact(pairs)} {colour_fact(pairs)}"
