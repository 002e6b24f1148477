"""Primitives that change the grid's size: cropping, scaling, tiling and mirrored copies."""

from __future__ import annotations

import numpy as np

from arcdsl.base import FractalWhere, Side, background, bounding_box


def crop_to_content(grid: np.ndarray) -> np.ndarray:
    """Cut the grid down to the box around its non-background cells."""
    return grid[bounding_box(grid != background(grid))].copy()


def crop_window(grid: np.ndarray, top: int, left: int, height: int, width: int) -> np.ndarray:
    """Cut out the fixed window of `height` x `width` cells whose top-left corner is at (top, left)."""
    if top + height > grid.shape[0] or left + width > grid.shape[1]:
        raise ValueError("the window does not fit inside the grid")
    return grid[top : top + height, left : left + width].copy()


def upscale(grid: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Blow each cell up into a block of `rows` x `cols` cells."""
    return np.repeat(np.repeat(grid, rows, axis=0), cols, axis=1)


def downscale(grid: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Shrink each block of `rows` x `cols` cells to its top-left cell."""
    if grid.shape[0] % rows or grid.shape[1] % cols:
        raise ValueError("the grid does not divide into whole blocks")
    return grid[::rows, ::cols].copy()


def tile(grid: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Repeat the grid `rows` times down and `cols` times across."""
    return np.tile(grid, (rows, cols))


def mirror_tile(grid: np.ndarray, side: Side) -> np.ndarray:
    """Add a mirrored copy of the grid on one side ("right", "left", "below" or "above")."""
    if side == "right":
        return np.hstack([grid, grid[:, ::-1]])
    if side == "left":
        return np.hstack([grid[:, ::-1], grid])
    if side == "below":
        return np.vstack([grid, grid[::-1, :]])
    if side == "above":
        return np.vstack([grid[::-1, :], grid])
    raise ValueError(f"unknown side {side!r}")


def mirror_quad(grid: np.ndarray, rotate: bool) -> np.ndarray:
    """Make a 2 x 2 block of the grid and its mirror images (or its quarter turns, if `rotate`)."""
    if rotate:
        if grid.shape[0] != grid.shape[1]:
            raise ValueError("only a square grid can be laid out with its quarter turns")
        return np.vstack([np.hstack([grid, np.rot90(grid, -1)]), np.hstack([np.rot90(grid, 1), np.rot90(grid, 2)])])
    return np.vstack([np.hstack([grid, grid[:, ::-1]]), np.hstack([grid[::-1, :], grid[::-1, ::-1]])])


def fractal(grid: np.ndarray, where: int | FractalWhere) -> np.ndarray:
    """Put a copy of the grid in place of each cell that is "filled", "empty", of the "commonest" colour, or of colour `where`."""
    if where == "filled":
        keep = grid != 0
    elif where == "empty":
        keep = grid == 0
    elif where == "commonest":
        keep = grid == np.bincount(grid.ravel(), minlength=10).argmax()
    else:
        keep = grid == where
    return np.where(np.kron(keep, np.ones(grid.shape, dtype=bool)), np.tile(grid, grid.shape), 0)


def reflect_tile(grid: np.ndarray, rows: int, cols: int, mirror_first: bool) -> np.ndarray:
    """Tile the grid `rows` x `cols` times, mirroring every other copy (the first one too, if `mirror_first`)."""
    out_rows = []
    for r in range(rows):
        copies = []
        for c in range(cols):
            copy = grid[::-1] if (r + mirror_first) % 2 else grid
            copies.append(copy[:, ::-1] if (c + mirror_first) % 2 else copy)
        out_rows.append(np.hstack(copies))
    return np.vstack(out_rows)


def continue_pattern(grid: np.ndarray, rows: float, cols: float) -> np.ndarray:
    """Grow the grid `rows` times taller and `cols` times wider by continuing its repeating rows and columns."""
    periods = []
    for lines in (grid, grid.T):
        size = lines.shape[0]
        periods.append(next(p for p in range(1, size + 1) if np.array_equal(lines[p:], lines[: size - p])))
    height, width = round(grid.shape[0] * rows), round(grid.shape[1] * cols)
    return grid[np.arange(height) % periods[0]][:, np.arange(width) % periods[1]]


def dedupe(grid: np.ndarray) -> np.ndarray:
    """Collapse each run of identical neighbouring rows, and of columns, into one."""
    rows = [0] + [r for r in range(1, grid.shape[0]) if not np.array_equal(grid[r], grid[r - 1])]
    grid = grid[rows]
    cols = [0] + [c for c in range(1, grid.shape[1]) if not np.array_equal(grid[:, c], grid[:, c - 1])]
    return grid[:, cols].copy()


def trim(grid: np.ndarray) -> np.ndarray:
    """Remove the outermost ring of cells."""
    if min(grid.shape) < 3:
        raise ValueError("the grid is too small to trim")
    return grid[1:-1, 1:-1].copy()


def crop_colour(grid: np.ndarray, colour: int) -> np.ndarray:
    """Cut the grid down to the box around the cells of `colour`."""
    return grid[bounding_box(grid == colour)].copy()


def crop_rarest(grid: np.ndarray) -> np.ndarray:
    """Cut the grid down to the box around the cells of its rarest colour."""
    counts = np.bincount(grid.ravel(), minlength=10)
    present = np.flatnonzero(counts)
    rarest = present[counts[present] == counts[present].min()]
    if rarest.size != 1:
        raise ValueError("no single colour is the rarest")
    return grid[bounding_box(grid == rarest[0])].copy()


def upscale_by_colours(grid: np.ndarray) -> np.ndarray:
    """Blow each cell up into a square block whose side is the number of non-background colours."""
    factor = len(set(np.unique(grid).tolist()) - {background(grid)})
    if factor < 1:
        raise ValueError("the grid has no non-background colour")
    return np.repeat(np.repeat(grid, factor, axis=0), factor, axis=1)
