"""Parameter inference: the few parameter values the train pairs allow for a primitive, not a blind sweep.

Each function takes the current grids (one per train pair) and the target outputs and returns
a list of parameter tuples to try, possibly empty.
"""

from __future__ import annotations

from collections import Counter
from itertools import product
from typing import Callable, Sequence

import numpy as np

from arcdsl.base import OBJECT_RULES, background, bounding_box, components

Grids = Sequence[np.ndarray]
Inference = Callable[[Grids, Grids], list[tuple]]


def no_params(states: Grids, outputs: Grids) -> list[tuple]:
    """The primitive takes nothing but the grid."""
    return [()]


def choices(*values: object) -> Inference:
    """Every one of a fixed handful of values (for a single parameter)."""
    return lambda states, outputs: [(value,) for value in values]


def grid_product(*axes: Sequence[object]) -> Inference:
    """Every combination of a fixed handful of values per parameter."""
    combos = list(product(*axes))
    return lambda states, outputs: combos


def same_shapes(states: Grids, outputs: Grids) -> bool:
    """Whether every current grid already has its output's shape."""
    return all(state.shape == output.shape for state, output in zip(states, outputs))


def shape_ratio(numerators: Grids, denominators: Grids) -> tuple[int, int] | None:
    """The whole-number (rows, cols) factor that takes every denominator shape to its numerator, if one does."""
    ratios = set()
    for top, bottom in zip(numerators, denominators):
        if top.shape[0] % bottom.shape[0] or top.shape[1] % bottom.shape[1]:
            return None
        ratios.add((top.shape[0] // bottom.shape[0], top.shape[1] // bottom.shape[1]))
    return ratios.pop() if len(ratios) == 1 else None


def colour_map(states: Grids, outputs: Grids) -> dict[int, int] | None:
    """The one colour-to-colour map that turns every current grid into its output, if there is one."""
    mapping: dict[int, int] = {}
    for state, output in zip(states, outputs):
        if state.shape != output.shape:
            return None
        pairs = np.unique(state.ravel() * 10 + output.ravel())
        for old, new in zip((pairs // 10).tolist(), (pairs % 10).tolist()):
            if mapping.setdefault(old, new) != new:
                return None
    return {old: new for old, new in sorted(mapping.items()) if old != new}


def added_colours(states: Grids, outputs: Grids) -> list[int]:
    """Colours every output shows that its current grid lacks."""
    common = set(range(10))
    for state, output in zip(states, outputs):
        common &= set(np.unique(output).tolist()) - set(np.unique(state).tolist())
    return sorted(common)


def painted_colours(states: Grids, outputs: Grids) -> list[int]:
    """Colours that outputs paint over background cells, where shapes match."""
    if not same_shapes(states, outputs):
        return added_colours(states, outputs)
    found: set[int] = set()
    for state, output in zip(states, outputs):
        changed = (state == background(state)) & (output != state)
        found |= set(np.unique(output[changed]).tolist())
    return sorted(found)


def changed_colours(states: Grids, outputs: Grids) -> list[int]:
    """Colours that outputs put where their current grid had something else, where shapes match."""
    if not same_shapes(states, outputs):
        return []
    found: set[int] = set()
    for state, output in zip(states, outputs):
        found |= set(np.unique(output[output != state]).tolist())
    return sorted(found)


def vanishing_colours(states: Grids, outputs: Grids) -> list[int]:
    """Colours every current grid shows that its output lacks."""
    common = set(range(10))
    for state, output in zip(states, outputs):
        common &= set(np.unique(state).tolist()) - set(np.unique(output).tolist())
    return sorted(common)


def growing_colours(states: Grids, outputs: Grids) -> list[int]:
    """Colours with more cells in every output than in its current grid."""
    growing = set(range(10))
    for state, output in zip(states, outputs):
        before = np.bincount(state.ravel(), minlength=10)
        after = np.bincount(output.ravel(), minlength=10)
        growing &= set(np.flatnonzero(after > before).tolist())
    return sorted(growing)


def upscale_factors(states: Grids, outputs: Grids) -> list[tuple]:
    ratio = shape_ratio(outputs, states)
    return [ratio] if ratio and ratio != (1, 1) else []


def downscale_factors(states: Grids, outputs: Grids) -> list[tuple]:
    ratio = shape_ratio(states, outputs)
    return [ratio] if ratio and ratio != (1, 1) else []


def mirror_sides(states: Grids, outputs: Grids) -> list[tuple]:
    # Lenient: a mirrored copy may be one step of a bigger tiling, so any even multiple will do.
    ratio = shape_ratio(outputs, states)
    if ratio is None:
        return []
    return ([("right",), ("left",)] if ratio[1] % 2 == 0 else []) + ([("below",), ("above",)] if ratio[0] % 2 == 0 else [])


def quad_layouts(states: Grids, outputs: Grids) -> list[tuple]:
    ratio = shape_ratio(outputs, states)
    return [(False,), (True,)] if ratio and ratio[0] % 2 == 0 and ratio[1] % 2 == 0 else []


def reflect_layouts(states: Grids, outputs: Grids) -> list[tuple]:
    ratio = shape_ratio(outputs, states)
    return [(*ratio, first) for first in (False, True)] if ratio and ratio != (1, 1) else []


def fractal_layouts(states: Grids, outputs: Grids) -> list[tuple]:
    if not all(o.shape == (s.shape[0] ** 2, s.shape[1] ** 2) for s, o in zip(states, outputs)):
        return []
    return [("filled",), ("empty",), ("commonest",), *state_colours(states, outputs)]


def growth_factors(states: Grids, outputs: Grids) -> list[tuple]:
    factors = {(o.shape[0] / s.shape[0], o.shape[1] / s.shape[1]) for s, o in zip(states, outputs)}
    factor = factors.pop() if len(factors) == 1 else (1.0, 1.0)
    return [factor] if factor != (1.0, 1.0) and min(factor) >= 1 else []


def shift_offsets(states: Grids, outputs: Grids) -> list[tuple]:
    if not same_shapes(states, outputs):
        return []
    offsets = set()
    for state, output in zip(states, outputs):
        try:
            before, after = bounding_box(state != background(state)), bounding_box(output != background(output))
        except ValueError:
            return []
        offsets.add((after[0].start - before[0].start, after[1].start - before[1].start))
    offset = offsets.pop() if len(offsets) == 1 else (0, 0)
    return [offset] if offset != (0, 0) else []


def window_positions(states: Grids, outputs: Grids) -> list[tuple]:
    shapes = {output.shape for output in outputs}
    if len(shapes) != 1:
        return []
    height, width = shapes.pop()
    first, target = states[0], outputs[0]
    for top, left in product(range(first.shape[0] - height + 1), range(first.shape[1] - width + 1)):
        fits = all(
            state.shape[0] >= top + height
            and state.shape[1] >= left + width
            and np.array_equal(state[top : top + height, left : left + width], output)
            for state, output in zip(states, outputs)
        )
        if fits and np.array_equal(first[top : top + height, left : left + width], target):
            return [(top, left, height, width)]
    return []


def part_counts(states: Grids, outputs: Grids) -> list[tuple[int, int]]:
    """(axis, count) splits that cut every current grid into parts of its output's size."""
    found = []
    for axis in (0, 1):
        counts = set()
        for state, output in zip(states, outputs):
            size, part = state.shape[axis], output.shape[axis]
            other = 1 - axis
            counts.add(
                next((n for n in range(2, 5) for gap in (1, 0) if n * part + (n - 1) * gap == size), 0)
                if state.shape[other] == output.shape[other]
                else 0
            )
        if len(counts) == 1 and (count := counts.pop()):
            found.append((axis, count))
    return found


def part_indices(states: Grids, outputs: Grids) -> list[tuple]:
    return [(axis, count, index) for axis, count in part_counts(states, outputs) for index in range(count)]


def part_combinations(states: Grids, outputs: Grids) -> list[tuple]:
    colours = sorted(set.intersection(*(set(np.unique(output).tolist()) for output in outputs)) - {0}) or [0]
    rules = ("all", "any", "one", "none", "first_only")
    return [(axis, count, rule, colour) for axis, count in part_counts(states, outputs) for rule in rules for colour in colours]


def part_selections(states: Grids, outputs: Grids) -> list[tuple]:
    rules = ("unique", "most_filled", "least_filled", "most_colours")
    return [(axis, count, rule) for axis, count in part_counts(states, outputs) for rule in rules]


def part_overlays(states: Grids, outputs: Grids) -> list[tuple]:
    return [(axis, count, reverse) for axis, count in part_counts(states, outputs) for reverse in (False, True)]


def object_choices(states: Grids, outputs: Grids) -> list[tuple]:
    return list(product(OBJECT_RULES, (False, True), (True, False)))


def state_colours(states: Grids, outputs: Grids) -> list[tuple]:
    colours = set.intersection(*(set(np.unique(state).tolist()) for state in states))
    return [(colour,) for colour in sorted(colours - {background(states[0])})]


def new_colour(states: Grids, outputs: Grids) -> list[tuple]:
    return [(colour,) for colour in painted_colours(states, outputs)]


def recolour_targets(states: Grids, outputs: Grids) -> list[tuple]:
    return [(colour,) for colour in changed_colours(states, outputs)]


def hole_colours(states: Grids, outputs: Grids) -> list[tuple]:
    return [(colour,) for colour in vanishing_colours(states, outputs)]


def border_colours(states: Grids, outputs: Grids) -> list[tuple]:
    rings = [np.concatenate([o[0], o[-1], o[:, 0], o[:, -1]]) for o in outputs]
    colours = {int(ring[0]) for ring in rings if (ring == ring[0]).all()}
    return [(colours.pop(),)] if len(colours) == 1 and len(rings) == len(outputs) else []


def connect_choices(states: Grids, outputs: Grids) -> list[tuple]:
    return [(colour, direction) for colour in [None, *painted_colours(states, outputs)] for direction in ("rows", "cols", "both")]


def ray_choices(states: Grids, outputs: Grids) -> list[tuple]:
    directions = ("up", "down", "left", "right", "horizontal", "vertical", "cross", "diagonals")
    return [(direction, colour) for direction in directions for colour in [None, *growing_colours(states, outputs)]]


def halo_choices(states: Grids, outputs: Grids) -> list[tuple]:
    sources = [colour for (colour,) in state_colours(states, outputs)]
    return list(product(sources, painted_colours(states, outputs), ("side", "corner", "either")))


def hole_patches(states: Grids, outputs: Grids) -> list[tuple]:
    return [(colour, by) for colour in vanishing_colours(states, outputs) for by in ("mirror", "period")]


def size_recolourings(rank: bool) -> Inference:
    """Colours per object size (or size rank) read off the outputs, with a default for the rest."""

    def infer(states: Grids, outputs: Grids) -> list[tuple]:
        if not same_shapes(states, outputs):
            return []
        return [(*params, diagonal) for diagonal in (True, False) for params in _size_maps(states, outputs, rank, diagonal)]

    return infer


def _size_maps(states: Grids, outputs: Grids, rank: bool, diagonal: bool) -> list[tuple]:
    seen: dict[int, set[int]] = {}
    for state, output in zip(states, outputs):
        masks = components(state, diagonal, True)
        sizes = sorted({int(mask.sum()) for mask in masks}, reverse=True)
        for mask in masks:
            colours = np.unique(output[mask])
            if colours.size != 1:
                return []
            key = sizes.index(int(mask.sum())) if rank else int(mask.sum())
            seen.setdefault(key, set()).add(int(colours[0]))
            if rank:
                seen.setdefault(key - len(sizes), set()).add(int(colours[0]))
    exact = {key: colours.pop() for key, colours in seen.items() if len(colours) == 1}
    known = {key: colour for key, colour in exact.items() if key >= 0}
    counts = Counter(known.values())
    if not counts:
        return []
    common = counts.most_common(1)[0][0]
    # A map that names only the exceptions to the commonest colour generalises to unseen sizes.
    found = [({key: colour for key, colour in known.items() if colour != common}, common), (known, None)]
    if rank:
        ends = {key: exact[key] for key in (0, -1) if key in exact}
        found += [(ends, default) for default in (None, *sorted(counts))]
    return found
