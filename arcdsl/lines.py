"""Primitives that draw: lines between pixels, rays to the border, halos and frames."""

from __future__ import annotations

import numpy as np

from arcdsl.base import LineDirection, RayDirection, Touch, background

# Each ray direction as (quarter turns that make it point down, columns moved per row once turned).
RAY_TURNS = {
    "down": [(0, 0)],
    "up": [(2, 0)],
    "left": [(1, 0)],
    "right": [(3, 0)],
    "horizontal": [(1, 0), (3, 0)],
    "vertical": [(0, 0), (2, 0)],
    "cross": [(0, 0), (1, 0), (2, 0), (3, 0)],
    "diagonals": [(0, 1), (0, -1), (2, 1), (2, -1)],
}


def connect_pairs(grid: np.ndarray, colour: int | None, direction: LineDirection) -> np.ndarray:
    """Join same-coloured cells facing each other along "rows", "cols" or "both" with a line of `colour` (or theirs)."""
    bg = background(grid)
    out = grid.copy()
    for along_cols in {"rows": [False], "cols": [True], "both": [False, True]}[direction]:
        source, target = (grid.T, out.T) if along_cols else (grid, out)
        for cells, line in zip(source, target):
            filled = np.flatnonzero(cells != bg)
            for start, stop in zip(filled[:-1], filled[1:]):
                if cells[start] == cells[stop] and stop > start + 1:
                    line[start + 1 : stop] = cells[start] if colour is None else colour
    return out


def extend_rays(grid: np.ndarray, direction: RayDirection, colour: int | None) -> np.ndarray:
    """Shoot a ray from each cell of `colour` (any colour if None) across the background, until it meets a cell."""
    bg = background(grid)
    sources = grid != bg if colour is None else grid == colour
    out = grid.copy()
    for turns, shift in RAY_TURNS[direction]:
        painted = np.rot90(rays_down(np.rot90(grid, turns), np.rot90(sources, turns), bg, shift), -turns)
        out = np.where(painted != grid, painted, out)
    return out


def rays_down(grid: np.ndarray, sources: np.ndarray, bg: int, shift: int) -> np.ndarray:
    """Paint the background below each source cell, moving `shift` columns per row, until a non-background cell."""
    out = grid.copy()
    carry = np.full(grid.shape[1], -1)
    for r in range(grid.shape[0]):
        if shift:
            carry = np.roll(carry, shift)
            carry[0 if shift > 0 else -1] = -1
        fill = (grid[r] == bg) & (carry >= 0)
        out[r, fill] = carry[fill]
        carry = np.where(sources[r], grid[r], np.where(grid[r] == bg, carry, -1))
    return out


def halo(grid: np.ndarray, source: int, colour: int, touch: Touch) -> np.ndarray:
    """Paint in `colour` the background cells touching a `source` cell by a "side", a "corner", or "either"."""
    padded = np.pad(grid == source, 1)
    near = np.zeros(grid.shape, dtype=bool)
    height, width = grid.shape
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            by_corner = bool(dr and dc)
            if (dr or dc) and touch in ("either", "corner" if by_corner else "side"):
                near |= padded[1 + dr : 1 + dr + height, 1 + dc : 1 + dc + width]
    return np.where(near & (grid == background(grid)), colour, grid)


def paint_empty_lines(grid: np.ndarray, colour: int) -> np.ndarray:
    """Paint in `colour` every row and column that holds only background."""
    bg = background(grid)
    out = grid.copy()
    out[(grid == bg).all(axis=1), :] = colour
    out[:, (grid == bg).all(axis=0)] = colour
    return out


def draw_border(grid: np.ndarray, colour: int) -> np.ndarray:
    """Paint the outermost ring of cells in `colour`."""
    out = grid.copy()
    out[0, :] = out[-1, :] = out[:, 0] = out[:, -1] = colour
    return out
