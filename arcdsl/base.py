"""Helpers the other primitives share: the background colour, connected objects, boxes."""

from __future__ import annotations

import functools
from typing import Callable, Literal, get_args

import numpy as np

# The words each string parameter accepts, as types: the catalogue shows them, and arcray's solver
# grammar (constrained decoding of a student's programs) reads them from the signatures.
ObjectRule = Literal["largest", "smallest", "unique_colour", "unique_shape", "most_colours"]
BlockRule = Literal["unique", "most_filled", "least_filled", "most_colours"]
PartRule = Literal["all", "any", "one", "none", "first_only"]
Direction = Literal["down", "up", "left", "right"]
RayDirection = Literal["down", "up", "left", "right", "horizontal", "vertical", "cross", "diagonals"]
LineDirection = Literal["rows", "cols", "both"]
Touch = Literal["side", "corner", "either"]
Mirror = Literal["lr", "ud", "both", "diagonal"]
Side = Literal["right", "left", "below", "above"]
PatchBy = Literal["mirror", "period"]
FractalWhere = Literal["filled", "empty", "commonest"]
OBJECT_RULES = get_args(ObjectRule)


def _memoise(function: Callable[..., list[np.ndarray]]) -> Callable[..., list[np.ndarray]]:
    # The search asks for the objects of the same grid many times over; the emitter copies the
    # undecorated source (via __wrapped__), so solvers stay plain.
    cache: dict[tuple, list[np.ndarray]] = {}

    @functools.wraps(function)
    def cached(grid: np.ndarray, diagonal: bool = False, by_colour: bool = True) -> list[np.ndarray]:
        key = (grid.shape, grid.tobytes(), grid.dtype.str, diagonal, by_colour)
        if key not in cache:
            if len(cache) > 4096:
                cache.clear()
            cache[key] = function(grid, diagonal, by_colour)
        return cache[key]

    return cached


def as_grid(grid: np.ndarray | list[list[int]]) -> np.ndarray:
    """Return the grid as a 2-D integer array (a solver's list of lists, or an array)."""
    array = np.asarray(grid)
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"a grid is a non-empty 2-D array of colours, not shape {array.shape}")
    if array.dtype.kind not in "iu":
        if array.dtype.kind != "b" and not np.all(np.mod(array, 1) == 0):
            raise ValueError(f"a grid holds integer colours, not {array.dtype}")
        array = array.astype(int)
    return array


def background(grid: np.ndarray) -> int:
    """Return the background colour: black (0) where the grid has any, else its most common colour."""
    counts = np.bincount(grid.ravel(), minlength=10)
    return 0 if counts[0] else int(counts.argmax())


@_memoise
def components(grid: np.ndarray, diagonal: bool = False, by_colour: bool = True) -> list[np.ndarray]:
    """Return boolean masks of the connected non-background objects, largest first."""
    bg = background(grid)
    cells = grid.tolist()
    height, width = grid.shape
    steps = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    if diagonal:
        steps += [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    seen = [[False] * width for _ in range(height)]
    masks = []
    for row in range(height):
        for col in range(width):
            if seen[row][col] or cells[row][col] == bg:
                continue
            mask = np.zeros(grid.shape, dtype=bool)
            seen[row][col] = True
            todo = [(row, col)]
            while todo:
                r, c = todo.pop()
                mask[r, c] = True
                for dr, dc in steps:
                    nr, nc = r + dr, c + dc
                    if 0 <= nr < height and 0 <= nc < width and not seen[nr][nc] and cells[nr][nc] != bg:
                        if not by_colour or cells[nr][nc] == cells[r][c]:
                            seen[nr][nc] = True
                            todo.append((nr, nc))
            masks.append(mask)
    masks.sort(key=lambda mask: -int(mask.sum()))
    return masks


def reachable(open_cells: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Return the open cells joined side by side, through open cells, to some seed cell."""
    reached = seeds & open_cells
    while True:
        grown = reached.copy()
        grown[1:, :] |= reached[:-1, :]
        grown[:-1, :] |= reached[1:, :]
        grown[:, 1:] |= reached[:, :-1]
        grown[:, :-1] |= reached[:, 1:]
        grown &= open_cells
        if np.array_equal(grown, reached):
            return reached
        reached = grown


def bounding_box(mask: np.ndarray) -> tuple[slice, slice]:
    """Return the row and column slices of the smallest box around the True cells."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise ValueError("the mask is empty")
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


def select_object(grid: np.ndarray, rule: ObjectRule, diagonal: bool = False, by_colour: bool = True) -> np.ndarray:
    """Return the mask of the one object that `rule` singles out, or raise ValueError if none or several do."""
    masks = components(grid, diagonal, by_colour)
    if rule == "largest" or rule == "smallest":
        keys = [int(mask.sum()) for mask in masks]
        best = max(keys) if rule == "largest" else min(keys, default=0)
        picked = [mask for mask, key in zip(masks, keys) if key == best]
    elif rule == "unique_colour":
        colours = [int(np.bincount(grid[mask]).argmax()) for mask in masks]
        picked = [mask for mask, colour in zip(masks, colours) if colours.count(colour) == 1]
    elif rule == "unique_shape":
        shapes = [mask[bounding_box(mask)].tobytes() + bytes(mask[bounding_box(mask)].shape) for mask in masks]
        picked = [mask for mask, shape in zip(masks, shapes) if shapes.count(shape) == 1]
    elif rule == "most_colours":
        counts = [len(np.unique(grid[mask])) for mask in masks]
        picked = [mask for mask, count in zip(masks, counts) if count == max(counts)]
    else:
        raise ValueError(f"unknown object rule {rule!r}")
    if len(picked) != 1:
        raise ValueError(f"{len(picked)} objects fit the rule {rule!r}, not exactly one")
    return picked[0]
