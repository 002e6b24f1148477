"""The registry the search draws from: each DSL primitive with its plain-English phrase and parameter inference."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal, Union

import numpy as np

import arcdsl as dsl
from arcray.solver import infer as inf

COLOUR_NAMES = ("black", "blue", "red", "green", "yellow", "grey", "magenta", "orange", "azure", "maroon")
ShapeEffect = Literal["same", "transposed", "other"]
Spec = Union[str, Callable[..., str]]


def colour_name(value: int | None) -> str:
    """Return a colour's name with its number, e.g. "red (2)"; None reads as "its own colour"."""
    if value is None:
        return "its own colour"
    return f"{COLOUR_NAMES[value]} ({value})" if 0 <= value <= 9 else str(value)


@dataclass(frozen=True)
class Primitive:
    """A DSL function as the search sees it.

    `spec` is a phrase (with `{param}` fields) or a function of the parameters returning one;
    `infer` proposes parameter tuples from the current grids and the outputs; `shape` says how the
    output's shape follows from the input's, so that the last step can be pruned by output shapes;
    `expand` is False for primitives used only to close a program (the final colour map).
    """

    function: Callable[..., np.ndarray]
    spec: Spec
    infer: inf.Inference = inf.no_params
    shape: ShapeEffect = "same"
    expand: bool = True

    @property
    def name(self) -> str:
        return self.function.__name__


_OBJECT_RULE_WORDS = {
    "largest": "the largest object",
    "smallest": "the smallest object",
    "unique_colour": "the only object of its colour",
    "unique_shape": "the only object of its shape",
    "most_colours": "the object with the most colours",
}
_PART_RULE_WORDS = {
    "all": "every part is filled",
    "any": "any part is filled",
    "one": "exactly one part is filled",
    "none": "no part is filled",
    "first_only": "only the first part is filled",
}

_BLOCK_RULE_WORDS = {
    "unique": "the one unlike all others",
    "most_filled": "the most filled one",
    "least_filled": "the least filled one",
    "most_colours": "the one with the most colours",
}


def _object_words(rule: str, diagonal: bool, by_colour: bool) -> str:
    joined = "diagonal neighbours included" if diagonal else "side neighbours only"
    kind = "single-coloured" if by_colour else "multi-coloured"
    return f"{_OBJECT_RULE_WORDS[rule]} ({kind} objects, {joined})"


def _parts_words(axis: int, count: int) -> str:
    return f"the {count} {'stacked' if axis == 0 else 'side-by-side'} parts"


def _joined(diagonal: bool) -> str:
    return "cells joined by sides or corners" if diagonal else "cells joined by sides"


def _rank_words(colours: dict[int, int], default: int | None, diagonal: bool) -> str:
    def rank(key: int) -> str:
        return {0: "the largest", -1: "the smallest"}.get(key, f"number {key + 1} by size" if key >= 0 else f"number {-key} from the smallest")

    text = f"recolour the objects ({_joined(diagonal)}) by size: " + ", ".join(f"{rank(k)} to {colour_name(v)}" for k, v in colours.items())
    return text + ("" if default is None else f", all others to {colour_name(default)}")


def _size_words(colours: dict[int, int], default: int | None, diagonal: bool) -> str:
    text = f"recolour the objects ({_joined(diagonal)}) by their number of cells: " + ", ".join(
        f"{size} cells to {colour_name(colour)}" for size, colour in colours.items()
    )
    return text + ("" if default is None else f", any other size to {colour_name(default)}")


_ALL = [
    Primitive(dsl.flip_lr, "mirror the grid left to right"),
    Primitive(dsl.flip_ud, "mirror the grid top to bottom"),
    Primitive(dsl.rotate_cw, "rotate the grid a quarter turn clockwise", shape="transposed"),
    Primitive(dsl.rotate_ccw, "rotate the grid a quarter turn anticlockwise", shape="transposed"),
    Primitive(dsl.rotate_180, "rotate the grid half a turn"),
    Primitive(dsl.transpose, "mirror the grid across its main diagonal", shape="transposed"),
    Primitive(dsl.antitranspose, "mirror the grid across its anti-diagonal", shape="transposed"),
    Primitive(dsl.shift, "move everything down {rows} and right {cols} cells", inf.shift_offsets),
    Primitive(dsl.crop_to_content, "crop the grid to the box around its non-background cells", shape="other"),
    Primitive(
        dsl.crop_window,
        "cut out the {height} x {width} window whose top-left corner is at row {top}, column {left}",
        inf.window_positions,
        shape="other",
    ),
    Primitive(dsl.upscale, "blow each cell up into a {rows} x {cols} block", inf.upscale_factors, shape="other"),
    Primitive(dsl.downscale, "shrink each {rows} x {cols} block to one cell", inf.downscale_factors, shape="other"),
    Primitive(dsl.tile, "repeat the grid {rows} times down and {cols} times across", inf.upscale_factors, shape="other"),
    Primitive(dsl.mirror_tile, "add a mirrored copy of the grid {side} it", inf.mirror_sides, shape="other"),
    Primitive(
        dsl.mirror_quad,
        lambda rotate: "make a 2 x 2 block of the grid and its "
        + ("quarter turns" if rotate else "mirror images"),
        inf.quad_layouts,
        shape="other",
    ),
    Primitive(
        dsl.fractal,
        lambda where: "put a copy of the grid in place of every "
        + ({"filled": "non-black", "empty": "black", "commonest": "most-common-colour"}[where] if isinstance(where, str) else colour_name(where))
        + " cell, black elsewhere",
        inf.fractal_layouts,
        shape="other",
    ),
    Primitive(
        dsl.reflect_tile,
        lambda rows, cols, mirror_first: f"tile the grid {rows} x {cols} times, mirroring every other copy"
        + (" starting with the first" if mirror_first else ""),
        inf.reflect_layouts,
        shape="other",
    ),
    Primitive(
        dsl.continue_pattern,
        "grow the grid {rows} times taller and {cols} times wider by continuing its repeating pattern",
        inf.growth_factors,
        shape="other",
    ),
    Primitive(dsl.crop_colour, "crop the grid to the box around its {colour} cells", inf.state_colours, shape="other"),
    Primitive(dsl.crop_rarest, "crop the grid to the box around the cells of its rarest colour", shape="other"),
    Primitive(dsl.trim, "remove the outermost ring of cells", shape="other"),
    Primitive(
        dsl.upscale_by_colours,
        "blow each cell up into a square block as wide as the number of colours (background aside)",
        shape="other",
    ),
    Primitive(dsl.count_row, "list every coloured cell's colour in one row, in reading order", shape="other"),
    Primitive(dsl.commonest_colour, "give the most common colour (background aside) as a single cell", shape="other"),
    Primitive(dsl.dedupe, "collapse runs of identical neighbouring rows and columns into one", shape="other"),
    Primitive(
        dsl.crop_object,
        lambda rule, diagonal, by_colour: "crop the grid to " + _object_words(rule, diagonal, by_colour),
        inf.object_choices,
        shape="other",
    ),
    Primitive(
        dsl.keep_object,
        lambda rule, diagonal, by_colour: "erase everything except " + _object_words(rule, diagonal, by_colour),
        inf.object_choices,
    ),
    Primitive(dsl.erase_small, "erase every object of at most {size} cells", inf.choices(1, 2, 3)),
    Primitive(dsl.fill_boxes, "paint the background inside each object's bounding box {colour}", inf.new_colour),
    Primitive(dsl.hollow, "erase the inside of every object, keeping its edge"),
    Primitive(dsl.recolour_inside, "paint the inside of every object {colour}", inf.recolour_targets),
    Primitive(dsl.recolour_closed, "paint every object that closes a loop {colour}", inf.recolour_targets),
    Primitive(dsl.recolour, "recolour {mapping}", expand=False),
    Primitive(dsl.fill_with_mode, "paint the whole grid in its most common colour"),
    Primitive(dsl.keep_colour, "erase every cell that is not {colour}", inf.state_colours),
    Primitive(
        dsl.connect_pairs,
        lambda colour, direction: f"join same-coloured cells facing each other along {direction} "
        f"with a line of {colour_name(colour)}",
        inf.connect_choices,
    ),
    Primitive(
        dsl.extend_rays,
        lambda direction, colour: f"shoot {direction} rays from every "
        + ("coloured" if colour is None else colour_name(colour))
        + " cell across the background",
        inf.ray_choices,
    ),
    Primitive(
        dsl.halo,
        lambda source, colour, touch: f"paint {colour_name(colour)} the background cells that touch a "
        f"{colour_name(source)} cell by " + {"side": "a side", "corner": "a corner", "either": "a side or a corner"}[touch],
        inf.halo_choices,
    ),
    Primitive(dsl.paint_empty_lines, "paint every row and column that holds only background {colour}", inf.new_colour),
    Primitive(dsl.draw_border, "paint the outer ring of cells {colour}", inf.border_colours),
    Primitive(dsl.gravity, "let every coloured cell fall {direction} as far as it goes", inf.choices("down", "up", "left", "right")),
    Primitive(dsl.fill_enclosed, "fill the enclosed background areas with {colour}", inf.new_colour),
    Primitive(dsl.symmetric_complete, "repaint the {hole} cells from their mirror images", inf.hole_colours),
    Primitive(
        dsl.mirror_overlay,
        lambda mirror: "fill the background from the grid's "
        + {"lr": "left-right", "ud": "top-bottom", "both": "left-right, top-bottom and half-turn", "diagonal": "diagonal"}[mirror]
        + " mirror image",
        inf.choices("lr", "ud", "both", "diagonal"),
    ),
    Primitive(dsl.periodic_complete, "repaint the {hole} cells from the repeating pattern", inf.hole_colours),
    Primitive(
        dsl.hole_patch,
        lambda hole, by: f"give what belongs under the box of {colour_name(hole)} cells, judging by the grid's "
        + ("mirror images" if by == "mirror" else "repeating pattern"),
        inf.hole_patches,
        shape="other",
    ),
    Primitive(dsl.cells_to_pixels, "shrink each cell between the separator lines to one pixel of its commonest colour", shape="other"),
    Primitive(
        dsl.take_part,
        lambda axis, count, index: f"keep part {index + 1} of {_parts_words(axis, count)}",
        inf.part_indices,
        shape="other",
    ),
    Primitive(
        dsl.select_part,
        lambda axis, count, rule: f"keep {_BLOCK_RULE_WORDS[rule]} of {_parts_words(axis, count)}",
        inf.part_selections,
        shape="other",
    ),
    Primitive(
        dsl.select_cell,
        lambda rule: f"keep {_BLOCK_RULE_WORDS[rule]} of the cells between the separator lines",
        inf.choices("unique", "most_filled", "least_filled", "most_colours"),
        shape="other",
    ),
    Primitive(
        dsl.select_square,
        lambda rule: f"cut the grid into squares and keep {_BLOCK_RULE_WORDS[rule]}",
        inf.choices("unique", "most_filled", "least_filled", "most_colours"),
        shape="other",
    ),
    Primitive(
        dsl.combine_parts,
        lambda axis, count, rule, colour: f"overlay {_parts_words(axis, count)} and paint {colour_name(colour)} "
        f"where {_PART_RULE_WORDS[rule]}",
        inf.part_combinations,
        shape="other",
    ),
    Primitive(
        dsl.overlay_parts,
        lambda axis, count, reverse: f"stack {_parts_words(axis, count)} so that "
        + ("earlier" if reverse else "later")
        + " parts cover the others",
        inf.part_overlays,
        shape="other",
    ),
    # Last: maps read off the outputs fit easily, so every simpler explanation goes first.
    Primitive(dsl.recolour_by_rank, _rank_words, inf.size_recolourings(rank=True)),
    Primitive(dsl.recolour_by_size, _size_words, inf.size_recolourings(rank=False)),
]

PRIMITIVES: dict[str, Primitive] = {primitive.name: primitive for primitive in _ALL}
