"""Primitives that fill: gravity, enclosed areas, and completion by symmetry or repetition."""

from __future__ import annotations

import numpy as np

from arcdsl.base import Direction, Mirror, PatchBy, background, bounding_box, reachable


def gravity(grid: np.ndarray, direction: Direction) -> np.ndarray:
    """Let every non-background cell fall "down", "up", "left" or "right" as far as it goes, keeping order."""
    turns = {"down": 0, "left": 1, "up": 2, "right": 3}[direction]
    bg = background(grid)
    turned = np.rot90(grid, turns)
    out = np.full_like(turned, bg)
    for col in range(turned.shape[1]):
        cells = turned[:, col][turned[:, col] != bg]
        out[turned.shape[0] - cells.size :, col] = cells
    return np.rot90(out, -turns).copy()


def fill_enclosed(grid: np.ndarray, colour: int) -> np.ndarray:
    """Paint in `colour` the background cells that cannot reach the border through background."""
    open_cells = grid == background(grid)
    border = np.zeros(grid.shape, dtype=bool)
    border[[0, -1], :] = border[:, [0, -1]] = True
    return np.where(open_cells & ~reachable(open_cells, border & open_cells), colour, grid)


def symmetric_complete(grid: np.ndarray, hole: int) -> np.ndarray:
    """Repaint the cells of colour `hole` from their mirror images, for every mirror axis the other cells obey."""
    out = grid.copy()
    for axis in (0, 1):
        size = grid.shape[axis]
        best, best_overlap = None, 0
        for total in range(size // 2, size + size // 2):
            index = np.arange(size)
            partner = total - index
            valid = (partner >= 0) & (partner < size)
            a = np.take(out, index[valid], axis=axis)
            b = np.take(out, partner[valid], axis=axis)
            both = (a != hole) & (b != hole)
            if both.sum() > best_overlap and np.array_equal(a[both], b[both]):
                best, best_overlap = total, int(both.sum())
        if best is not None and best_overlap * 2 >= out.size:
            index = np.arange(size)
            partner = best - index
            valid = (partner >= 0) & (partner < size)
            mirrored = out.copy()
            if axis == 0:
                mirrored[index[valid]] = out[partner[valid]]
            else:
                mirrored[:, index[valid]] = out[:, partner[valid]]
            out = np.where(out == hole, mirrored, out)
    if out.shape[0] == out.shape[1] and np.array_equal(out.T[(out != hole) & (out.T != hole)], out[(out != hole) & (out.T != hole)]):
        out = np.where(out == hole, out.T, out)
    if (out == hole).any():
        raise ValueError("some holes have no mirror image to copy from")
    return out


def periodic_complete(grid: np.ndarray, hole: int) -> np.ndarray:
    """Repaint the cells of colour `hole` from the smallest repeating tile that the other cells fit."""
    height, width = grid.shape
    known = grid != hole
    for area, rows, cols in sorted((r * c, r, c) for r in range(1, height + 1) for c in range(1, width + 1)):
        tile = np.full((rows, cols), -1)
        fits = True
        for r in range(rows):
            for c in range(cols):
                values = grid[r::rows, c::cols][known[r::rows, c::cols]]
                if values.size == 0 or (values != values[0]).any():
                    fits = False
                    break
                tile[r, c] = values[0]
            if not fits:
                break
        if fits:
            return np.tile(tile, (height // rows + 1, width // cols + 1))[:height, :width]
    raise ValueError("no repeating tile fits the known cells")


def mirror_overlay(grid: np.ndarray, mirror: Mirror) -> np.ndarray:
    """Fill the background cells from the grid's mirror image ("lr", "ud", "both" or "diagonal")."""
    bg = background(grid)
    if mirror == "diagonal" and grid.shape[0] != grid.shape[1]:
        raise ValueError("only a square grid has a diagonal mirror image")
    images = {"lr": [grid[:, ::-1]], "ud": [grid[::-1]], "both": [grid[:, ::-1], grid[::-1], grid[::-1, ::-1]], "diagonal": [grid.T]}
    out = grid.copy()
    for image in images[mirror]:
        out = np.where(out == bg, image, out)
    return out


def hole_patch(grid: np.ndarray, hole: int, by: PatchBy) -> np.ndarray:
    """Return what belongs under the box of `hole` cells, completed "by" its "mirror" images or its "period"."""
    box = bounding_box(grid == hole)
    completed = symmetric_complete(grid, hole) if by == "mirror" else periodic_complete(grid, hole)
    return completed[box].copy()
