"""What an ARC grid is, on both sides of the pipe: a list of at most 30 rows of at most 30 ints 0-9,
every row as long as the first.

The child converts what the solver returned (numpy arrays and integral floats included) into
that form, or says why it cannot; the supervisor accepts only that form, checked without
recursion, whatever the child sends. (The caller checks it a third time.)
"""

from __future__ import annotations

import math

import numpy as np

MAX_SIDE = 30


def converted(value):
    """The solver's return value as plain lists of ints, or (kind, message)."""
    if isinstance(value, np.ndarray):
        if value.ndim != 2:
            return "bad_shape", f"returned an array with {value.ndim} dimension(s); a grid has 2"
        if value.dtype.kind not in "iub" and not (value.dtype.kind == "f" and np.all(np.mod(value, 1) == 0)):
            return "not_grid", f"returned an array of {value.dtype}; a grid holds integers 0-9"
        rows = [[int(c) for c in row] for row in np.asarray(value, dtype=np.float64).tolist()]
    elif isinstance(value, (list, tuple)):
        rows = []
        for r, row in enumerate(value):
            if isinstance(row, np.ndarray):
                row = row.tolist()
            if not isinstance(row, (list, tuple)):
                return "not_grid", f"row {r} is a {type(row).__name__}, not a list of colours"
            cells = []
            for c, cell in enumerate(row):
                if isinstance(cell, (bool, np.bool_)) or not isinstance(cell, (int, np.integer, float, np.floating)):
                    return "not_grid", f"cell ({r},{c}) is a {type(cell).__name__}, not an integer colour"
                if isinstance(cell, (float, np.floating)) and (not math.isfinite(float(cell)) or float(cell) != int(cell)):
                    return "not_grid", f"cell ({r},{c}) is {float(cell)}, not an integer colour"
                cells.append(int(cell))
            rows.append(cells)
    else:
        return "not_grid", f"returned a {type(value).__name__}, not a grid (a list of lists of ints)"
    if not rows or not rows[0]:
        return "bad_shape", "returned an empty grid"
    width = len(rows[0])
    for r, row in enumerate(rows):
        if len(row) != width:
            return "bad_shape", f"ragged grid: row {r} has {len(row)} cells, row 0 has {width}"
    if len(rows) > MAX_SIDE or width > MAX_SIDE:
        return "bad_shape", f"returned a {len(rows)}x{width} grid; ARC grids are at most {MAX_SIDE}x{MAX_SIDE}"
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if not 0 <= cell <= 9:
                return "not_grid", f"cell ({r},{c}) is {cell}; colours are 0-9"
    return rows


def plain_or_none(value):
    """``value`` if it is a plain ARC grid (checked without recursion), else None."""
    if not isinstance(value, list) or not 0 < len(value) <= MAX_SIDE:
        return None
    width = len(value[0]) if isinstance(value[0], list) else 0
    for row in value:
        if not isinstance(row, list) or len(row) != width or not 0 < width <= MAX_SIDE:
            return None
        if not all(type(cell) is int and 0 <= cell <= 9 for cell in row):
            return None
    return value
