"""ARC grids: rectangular lists of rows of colours 0–9, at most 30×30."""

from __future__ import annotations

from typing import Any

Grid = list[list[int]]

MAX_SIDE = 30
COLOURS = range(10)


class GridError(ValueError):
    """A value is not a valid ARC grid; the message says why."""


def grid_problem(value: Any, *, max_side: int = MAX_SIDE) -> str | None:
    """Return why ``value`` is not an ARC grid, or None when it is one."""
    if not isinstance(value, list) or not value:
        return "grid must be a non-empty list of rows"
    width = None
    for r, row in enumerate(value):
        if not isinstance(row, list) or not row:
            return f"row {r} must be a non-empty list of colours"
        if width is None:
            width = len(row)
        elif len(row) != width:
            return f"ragged grid: row {r} has {len(row)} cells, row 0 has {width}"
        for c, cell in enumerate(row):
            if type(cell) is not int or cell not in COLOURS:
                return f"cell ({r},{c}) is {cell!r}; colours are integers 0-9"
    if len(value) > max_side or width > max_side:
        return f"grid is {len(value)}x{width}; ARC grids are at most {max_side}x{max_side}"
    return None


def validate_grid(value: Any, *, max_side: int = MAX_SIDE) -> Grid:
    """Return ``value`` as a grid, or raise GridError naming what is wrong."""
    problem = grid_problem(value, max_side=max_side)
    if problem:
        raise GridError(problem)
    return value


def shape(grid: Grid) -> tuple[int, int]:
    """(rows, columns) of a grid."""
    return len(grid), len(grid[0])


def colours(grid: Grid) -> set[int]:
    """The colours a grid has."""
    return {c for row in grid for c in row}
