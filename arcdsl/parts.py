"""Primitives on grids made of parts: equal parts side by side, or cells between separator lines.

Here black (0) counts as empty, whatever colour is most common: parts are read as overlaid shapes.
"""

from __future__ import annotations

import numpy as np

from arcdsl.base import BlockRule, PartRule, background


def split_parts(grid: np.ndarray, axis: int, count: int) -> list[np.ndarray]:
    """Cut the grid into `count` equal parts along `axis` (0: stacked, 1: side by side), dropping separator lines."""
    size = grid.shape[axis]
    for gap in (1, 0):
        part, extra = divmod(size - gap * (count - 1), count)
        if extra or part < 1:
            continue
        starts = [index * (part + gap) for index in range(count)]
        separators = [np.take(grid, range(start - gap, start), axis=axis) for start in starts[1:]]
        if gap and not all((line == line.flat[0]).all() for line in separators):
            continue
        return [np.take(grid, range(start, start + part), axis=axis) for start in starts]
    raise ValueError(f"the grid does not split into {count} equal parts along axis {axis}")


def take_part(grid: np.ndarray, axis: int, count: int, index: int) -> np.ndarray:
    """Keep part number `index` of the `count` equal parts along `axis`."""
    return split_parts(grid, axis, count)[index].copy()


def combine_parts(grid: np.ndarray, axis: int, count: int, rule: PartRule, colour: int) -> np.ndarray:
    """Overlay the parts' shapes and paint `colour` where "all", "any", "one", "none" or "first_only" of them are filled."""
    filled = np.array([part != 0 for part in split_parts(grid, axis, count)])
    hits = filled.sum(axis=0)
    keep = {
        "all": hits == count,
        "any": hits > 0,
        "one": hits == 1,
        "none": hits == 0,
        "first_only": filled[0] & (hits == 1),
    }[rule]
    return np.where(keep, colour, 0)


def overlay_parts(grid: np.ndarray, axis: int, count: int, reverse: bool) -> np.ndarray:
    """Stack the parts so that later parts' non-black cells cover earlier ones (earlier ones, if `reverse`)."""
    parts = split_parts(grid, axis, count)
    out = np.zeros_like(parts[0])
    for part in parts[::-1] if reverse else parts:
        out = np.where(part != 0, part, out)
    return out


def cell_spans(grid: np.ndarray) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Return the (start, stop) row and column spans of the cells between full lines of one separator colour."""
    bg = background(grid)
    for colour in sorted(np.unique(grid).tolist(), key=lambda colour: colour == bg):
        rows = [r for r in range(grid.shape[0]) if (grid[r] == colour).all()]
        cols = [c for c in range(grid.shape[1]) if (grid[:, c] == colour).all()]
        row_spans, col_spans = spans_between(rows, grid.shape[0]), spans_between(cols, grid.shape[1])
        if (rows or cols) and len(row_spans) * len(col_spans) >= 2:
            return row_spans, col_spans
    raise ValueError("no full rows or columns of one colour cut the grid into cells")


def spans_between(lines: list[int], size: int) -> list[tuple[int, int]]:
    """Return the (start, stop) runs of the indices below `size` that are not in `lines`."""
    edges = [-1, *lines, size]
    return [(a + 1, b) for a, b in zip(edges[:-1], edges[1:]) if b > a + 1]


def split_cells(grid: np.ndarray) -> list[np.ndarray]:
    """Cut the grid into the cells between full rows and full columns of one separator colour."""
    rows, cols = cell_spans(grid)
    return [grid[r0:r1, c0:c1] for r0, r1 in rows for c0, c1 in cols]


def pick_block(blocks: list[np.ndarray], rule: BlockRule) -> np.ndarray:
    """Return the one block that `rule` ("unique", "most_filled", "least_filled", "most_colours") singles out."""
    if rule == "unique":
        keys = [block.tobytes() + bytes(block.shape) for block in blocks]
        picked = [block for block, key in zip(blocks, keys) if keys.count(key) == 1]
    else:
        score = {
            "most_filled": lambda block: int((block != 0).sum()),
            "least_filled": lambda block: -int((block != 0).sum()),
            "most_colours": lambda block: len(np.unique(block)),
        }[rule]
        best = max(score(block) for block in blocks)
        picked = [block for block in blocks if score(block) == best]
    if len(picked) != 1:
        raise ValueError(f"{len(picked)} blocks fit the rule {rule!r}, not exactly one")
    return picked[0].copy()


def select_part(grid: np.ndarray, axis: int, count: int, rule: BlockRule) -> np.ndarray:
    """Keep the one of the `count` equal parts along `axis` that `rule` singles out."""
    return pick_block(split_parts(grid, axis, count), rule)


def select_cell(grid: np.ndarray, rule: BlockRule) -> np.ndarray:
    """Keep the one cell, between separator lines, that `rule` singles out."""
    return pick_block(split_cells(grid), rule)


def select_square(grid: np.ndarray, rule: BlockRule) -> np.ndarray:
    """Cut a long grid into square blocks as wide as it is narrow, and keep the one that `rule` singles out."""
    side, length = min(grid.shape), max(grid.shape)
    if length % side or length == side:
        raise ValueError("the grid is not a row of two or more squares")
    axis = 0 if grid.shape[0] > grid.shape[1] else 1
    return pick_block(split_parts(grid, axis, length // side), rule)


def cells_to_pixels(grid: np.ndarray) -> np.ndarray:
    """Shrink each cell between separator lines to one pixel of its commonest colour."""
    rows, cols = cell_spans(grid)
    return np.array([[np.bincount(grid[r0:r1, c0:c1].ravel(), minlength=10).argmax() for c0, c1 in cols] for r0, r1 in rows])
