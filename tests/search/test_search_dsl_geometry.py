"""Mirrors, rotations, transposes, shifts, and the shared object helpers, on hand-made grids."""

import numpy as np
import pytest
from search_grids import grid, same

import arcdsl as dsl

G = grid("120 / 340")


def test_mirrors():
    assert same(dsl.flip_lr(G), "021 / 043")
    assert same(dsl.flip_ud(G), "340 / 120")


def test_rotations():
    assert same(dsl.rotate_cw(G), "31 / 42 / 00")
    assert same(dsl.rotate_ccw(G), "00 / 24 / 13")
    assert same(dsl.rotate_180(G), "043 / 021")


def test_transposes():
    assert same(dsl.transpose(G), "13 / 24 / 00")
    assert same(dsl.antitranspose(G), "00 / 42 / 31")


def test_shift_fills_with_background():
    assert same(dsl.shift(grid("100 / 000 / 000"), 1, 1), "000 / 010 / 000")
    assert same(dsl.shift(grid("000 / 000 / 001"), -2, 0), "001 / 000 / 000")


def test_background_is_the_commonest_colour():
    assert dsl.background(grid("55 / 51")) == 5


def test_components_split_by_colour_and_connectivity():
    g = grid("110 / 002 / 022")
    assert [int(m.sum()) for m in dsl.components(g)] == [3, 2]
    assert len(dsl.components(grid("10 / 01"), diagonal=False)) == 2
    assert len(dsl.components(grid("10 / 01"), diagonal=True)) == 1
    assert len(dsl.components(grid("12 / 00"), by_colour=False)) == 1


def test_bounding_box_and_reachable():
    mask = grid("000 / 010 / 011").astype(bool)
    assert dsl.bounding_box(mask) == (slice(1, 3), slice(1, 3))
    with pytest.raises(ValueError):
        dsl.bounding_box(np.zeros((2, 2), dtype=bool))
    open_cells = grid("110 / 010 / 011").astype(bool)
    seeds = np.zeros((3, 3), dtype=bool)
    seeds[0, 0] = True
    assert (dsl.reachable(open_cells, seeds) == open_cells).all()


def test_select_object_needs_exactly_one_match():
    g = grid("1100 / 0002 / 3000")
    assert dsl.select_object(g, "largest").sum() == 2
    assert dsl.select_object(g, "unique_shape").sum() == 2
    with pytest.raises(ValueError):
        dsl.select_object(g, "smallest")  # the 2 and the 3 tie
