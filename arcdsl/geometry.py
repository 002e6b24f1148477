"""Rigid moves of the whole grid: mirrors, rotations, transposes and shifts."""

from __future__ import annotations

import numpy as np

from arcdsl.base import background


def flip_lr(grid: np.ndarray) -> np.ndarray:
    """Mirror the grid left to right."""
    return grid[:, ::-1].copy()


def flip_ud(grid: np.ndarray) -> np.ndarray:
    """Mirror the grid top to bottom."""
    return grid[::-1, :].copy()


def rotate_cw(grid: np.ndarray) -> np.ndarray:
    """Rotate the grid a quarter turn clockwise."""
    return np.rot90(grid, -1).copy()


def rotate_ccw(grid: np.ndarray) -> np.ndarray:
    """Rotate the grid a quarter turn anticlockwise."""
    return np.rot90(grid, 1).copy()


def rotate_180(grid: np.ndarray) -> np.ndarray:
    """Rotate the grid half a turn."""
    return grid[::-1, ::-1].copy()


def transpose(grid: np.ndarray) -> np.ndarray:
    """Mirror the grid across its main diagonal."""
    return grid.T.copy()


def antitranspose(grid: np.ndarray) -> np.ndarray:
    """Mirror the grid across its anti-diagonal."""
    return grid[::-1, ::-1].T.copy()


def shift(grid: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Move the content down `rows` and right `cols` cells, filling the gap with the background."""
    bg = background(grid)
    height, width = grid.shape
    out = np.full_like(grid, bg)
    out[max(rows, 0) : height + min(rows, 0), max(cols, 0) : width + min(cols, 0)] = grid[
        max(-rows, 0) : height - max(rows, 0), max(-cols, 0) : width - max(cols, 0)
    ]
    return out
