"""Primitives that summarise a grid into a small new one."""

from __future__ import annotations

import numpy as np

from arcdsl.base import background


def count_row(grid: np.ndarray) -> np.ndarray:
    """Return one row holding a cell of each non-background cell's colour, in reading order."""
    cells = grid[grid != background(grid)]
    if cells.size == 0:
        raise ValueError("the grid has no non-background cell")
    return cells[None, :].copy()


def commonest_colour(grid: np.ndarray) -> np.ndarray:
    """Return a single cell of the most common non-background colour."""
    counts = np.bincount(grid.ravel(), minlength=10)
    counts[background(grid)] = 0
    if counts.max() == 0 or (counts == counts.max()).sum() > 1:
        raise ValueError("no single non-background colour is the most common")
    return np.array([[int(counts.argmax())]])
