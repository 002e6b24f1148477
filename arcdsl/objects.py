"""Primitives on connected objects: pick one out, or recolour each by its size."""

from __future__ import annotations

import numpy as np

from arcdsl.base import ObjectRule, background, bounding_box, components, reachable, select_object


def crop_object(grid: np.ndarray, rule: ObjectRule, diagonal: bool, by_colour: bool) -> np.ndarray:
    """Cut the grid down to the box around the object that `rule` picks."""
    return grid[bounding_box(select_object(grid, rule, diagonal, by_colour))].copy()


def keep_object(grid: np.ndarray, rule: ObjectRule, diagonal: bool, by_colour: bool) -> np.ndarray:
    """Erase every object except the one that `rule` picks."""
    return np.where(select_object(grid, rule, diagonal, by_colour), grid, background(grid))


def recolour_by_rank(grid: np.ndarray, colours: dict[int, int], default: int | None, diagonal: bool) -> np.ndarray:
    """Paint each object by its size rank (0 = largest, -1 = smallest); unranked ones get `default`, or stay."""
    masks = components(grid, diagonal, True)
    sizes = sorted({int(mask.sum()) for mask in masks}, reverse=True)
    out = grid.copy()
    for mask in masks:
        rank = sizes.index(int(mask.sum()))
        colour = colours.get(rank, colours.get(rank - len(sizes), default))
        if colour is not None:
            out[mask] = colour
    return out


def recolour_by_size(grid: np.ndarray, colours: dict[int, int], default: int | None, diagonal: bool) -> np.ndarray:
    """Paint each object by its number of cells; other sizes get `default`, or stay."""
    out = grid.copy()
    for mask in components(grid, diagonal, True):
        colour = colours.get(int(mask.sum()), default)
        if colour is not None:
            out[mask] = colour
    return out


def erase_small(grid: np.ndarray, size: int) -> np.ndarray:
    """Erase every object (diagonal neighbours joined, any colours) of at most `size` cells."""
    out = grid.copy()
    for mask in components(grid, True, False):
        if mask.sum() <= size:
            out[mask] = background(grid)
    return out


def fill_boxes(grid: np.ndarray, colour: int) -> np.ndarray:
    """Paint in `colour` the background cells inside each object's bounding box."""
    out = grid.copy()
    bg = background(grid)
    for mask in components(grid, True, False):
        box = bounding_box(mask)
        out[box] = np.where(grid[box] == bg, colour, out[box])
    return out


def hollow(grid: np.ndarray) -> np.ndarray:
    """Erase the inside of every object: the cells whose four neighbours all share their colour."""
    padded = np.pad(grid, 1, constant_values=-1)
    height, width = grid.shape
    inside = grid != background(grid)
    for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        inside &= padded[1 + dr : 1 + dr + height, 1 + dc : 1 + dc + width] == grid
    return np.where(inside, background(grid), grid)


def recolour_inside(grid: np.ndarray, colour: int) -> np.ndarray:
    """Paint in `colour` the inside of every object: the cells whose four neighbours all share their colour."""
    return np.where(hollow(grid) != grid, colour, grid)


def recolour_closed(grid: np.ndarray, colour: int) -> np.ndarray:
    """Paint in `colour` every single-coloured object that closes a loop around some cells."""
    out = grid.copy()
    for mask in components(grid, True, True):
        open_cells = np.pad(~mask[bounding_box(mask)], 1, constant_values=True)
        seeds = np.zeros(open_cells.shape, dtype=bool)
        seeds[0, 0] = True
        if (open_cells & ~reachable(open_cells, seeds)).any():
            out[mask] = colour
    return out
