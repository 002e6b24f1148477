"""Primitives that change colours but not positions."""

from __future__ import annotations

import numpy as np

from arcdsl.base import background


def recolour(grid: np.ndarray, mapping: dict[int, int]) -> np.ndarray:
    """Replace every colour that `mapping` names by the colour it maps to."""
    out = grid.copy()
    for old, new in mapping.items():
        out[grid == old] = new
    return out


def fill_with_mode(grid: np.ndarray) -> np.ndarray:
    """Paint the whole grid in its most common colour."""
    return np.full_like(grid, np.bincount(grid.ravel(), minlength=10).argmax())


def keep_colour(grid: np.ndarray, colour: int) -> np.ndarray:
    """Erase every cell that is not of `colour` to the background."""
    return np.where(grid == colour, grid, background(grid))
