"""arcdsl: the grid DSL of arcray's program search, as a small library solvers import.

Every function takes a grid first (a list of lists of ints 0-9, or a 2-D numpy array) and
returns a new 2-D numpy int array; it raises ValueError when it does not apply to the grid.
The library is pure (numpy and the standard library only) and is importable inside arcray's
sandbox, so a solver is a few lines that call it::

    from arcdsl import *

    def solve(grid):
        # let every coloured cell fall down, then paint blue (1) red (2)
        grid = gravity(grid, "down")
        grid = recolour(grid, {1: 2})
        return grid

``help(arcdsl.gravity)`` (or ``arcdsl.catalogue()``) describes each function in one line.

Rules every function keeps, because arcray's emitter also copies their source into standalone
(numpy-only) solvers for export:
- it takes the grid (a 2-D integer array) first and returns a new integer array (helpers may return other values);
- it refers only to `np`, builtins and other functions of this package, by their plain names;
- it raises ValueError when it does not apply to the grid it is given.
"""

import functools as _functools
import inspect as _inspect
import types as _types
import typing as _typing

import numpy as _np

from arcdsl.base import as_grid, background, bounding_box, components, reachable, select_object
from arcdsl.colour import fill_with_mode, keep_colour, recolour
from arcdsl.geometry import (
    antitranspose,
    flip_lr,
    flip_ud,
    rotate_180,
    rotate_ccw,
    rotate_cw,
    shift,
    transpose,
)
from arcdsl.lines import connect_pairs, draw_border, extend_rays, halo, paint_empty_lines, rays_down
from arcdsl.objects import (
    crop_object,
    erase_small,
    fill_boxes,
    hollow,
    keep_object,
    recolour_by_rank,
    recolour_by_size,
    recolour_closed,
    recolour_inside,
)
from arcdsl.paint import (
    fill_enclosed,
    gravity,
    hole_patch,
    mirror_overlay,
    periodic_complete,
    symmetric_complete,
)
from arcdsl.parts import (
    cell_spans,
    cells_to_pixels,
    combine_parts,
    overlay_parts,
    pick_block,
    select_cell,
    select_part,
    select_square,
    split_cells,
    spans_between,
    split_parts,
    take_part,
)
from arcdsl.summary import commonest_colour, count_row
from arcdsl.resize import (
    continue_pattern,
    crop_colour,
    crop_rarest,
    crop_to_content,
    crop_window,
    dedupe,
    downscale,
    fractal,
    mirror_quad,
    mirror_tile,
    reflect_tile,
    tile,
    trim,
    upscale,
    upscale_by_colours,
)

__all__ = [
    "as_grid",
    "antitranspose",
    "background",
    "bounding_box",
    "cell_spans",
    "cells_to_pixels",
    "combine_parts",
    "commonest_colour",
    "components",
    "connect_pairs",
    "continue_pattern",
    "count_row",
    "crop_colour",
    "crop_object",
    "crop_rarest",
    "crop_to_content",
    "crop_window",
    "dedupe",
    "downscale",
    "draw_border",
    "erase_small",
    "extend_rays",
    "fill_boxes",
    "fill_enclosed",
    "fill_with_mode",
    "flip_lr",
    "flip_ud",
    "fractal",
    "gravity",
    "halo",
    "hole_patch",
    "hollow",
    "keep_colour",
    "keep_object",
    "mirror_overlay",
    "mirror_quad",
    "mirror_tile",
    "overlay_parts",
    "paint_empty_lines",
    "periodic_complete",
    "pick_block",
    "rays_down",
    "reachable",
    "recolour",
    "recolour_by_rank",
    "recolour_by_size",
    "recolour_closed",
    "recolour_inside",
    "reflect_tile",
    "rotate_180",
    "rotate_ccw",
    "rotate_cw",
    "select_cell",
    "select_object",
    "select_part",
    "select_square",
    "shift",
    "spans_between",
    "split_cells",
    "split_parts",
    "symmetric_complete",
    "take_part",
    "tile",
    "transpose",
    "trim",
    "upscale",
    "upscale_by_colours",
]


def _accepting_lists(function):
    """The function, also taking its grid as a list of lists (solvers receive lists)."""

    @_functools.wraps(function)
    def wrapper(grid, *args, **kwargs):
        return function(grid if isinstance(grid, _np.ndarray) else as_grid(grid), *args, **kwargs)

    return wrapper


def _takes_a_grid(function) -> bool:
    code = _inspect.unwrap(function).__code__
    return code.co_argcount > 0 and code.co_varnames[0] == "grid"


for _name in __all__:
    if _name != "as_grid" and _takes_a_grid(globals()[_name]):  # not pick_block(blocks, …), spans_between(lines, …)
        globals()[_name] = _accepting_lists(globals()[_name])
del _name


def catalogue() -> str:
    """One line per function: its signature and what it does (the library's documentation in brief)."""
    lines = []
    for name in __all__:
        function = _inspect.unwrap(globals()[name])
        lines.append(f"{name}{signature(function)}: {(function.__doc__ or '').strip().splitlines()[0]}")
    return "\n".join(lines)


def signature(function) -> str:
    """``(grid, direction: "down" | "up" | ...) -> grid``: the parameters with the words a string accepts."""
    plain = _inspect.unwrap(function)
    hints = _typing.get_type_hints(plain)
    shown = []
    for name, parameter in _inspect.signature(plain).parameters.items():
        typed = f"{name}: {_type_words(hints[name])}" if name in hints else name
        shown.append(typed if parameter.default is parameter.empty else f"{typed} = {parameter.default!r}")
    returns = f" -> {_type_words(hints['return'])}" if "return" in hints else ""
    return f"({', '.join(shown)}){returns}"


def _type_words(hint) -> str:
    if hint is _np.ndarray:
        return "grid"
    origin, args = _typing.get_origin(hint), _typing.get_args(hint)
    if origin is _typing.Literal:
        return " | ".join(f'"{value}"' for value in args)
    if origin in (_typing.Union, _types.UnionType):
        return " | ".join(_type_words(arg) for arg in args)
    if hint is type(None):
        return "None"
    if origin is not None:
        return f"{origin.__name__}[{', '.join(_type_words(arg) for arg in args)}]"
    return getattr(hint, "__name__", str(hint))
