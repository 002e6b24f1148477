"""Cropping, scaling, tiling, mirrored copies and summaries, on hand-made grids."""

import pytest
from search_grids import grid, same

import arcdsl as dsl


def test_crops():
    g = grid("0000 / 0120 / 0300 / 0000")
    assert same(dsl.crop_to_content(g), "12 / 30")
    assert same(dsl.crop_window(g, 1, 1, 1, 2), "12")
    assert same(dsl.crop_colour(g, 3), "3")
    assert same(dsl.crop_rarest(grid("0000 / 0121 / 0000")), "2")
    assert same(dsl.trim(g), "12 / 30")
    with pytest.raises(ValueError):
        dsl.crop_window(g, 3, 3, 2, 2)


def test_scaling():
    assert same(dsl.upscale(grid("12"), 2, 1), "12 / 12")
    assert same(dsl.downscale(grid("1122 / 1122"), 2, 2), "12")
    assert same(dsl.upscale_by_colours(grid("10 / 20")), "1100 / 1100 / 2200 / 2200")
    with pytest.raises(ValueError):
        dsl.downscale(grid("123"), 1, 2)


def test_tiling_and_mirrored_copies():
    g = grid("12")
    assert same(dsl.tile(g, 2, 2), "1212 / 1212")
    assert same(dsl.mirror_tile(g, "right"), "1221")
    assert same(dsl.mirror_tile(g, "left"), "2112")
    assert same(dsl.mirror_tile(grid("1 / 2"), "below"), "1 / 2 / 2 / 1")
    assert same(dsl.mirror_tile(grid("1 / 2"), "above"), "2 / 1 / 1 / 2")
    assert same(dsl.mirror_quad(grid("12 / 30"), False), "1221 / 3003 / 3003 / 1221")
    assert same(dsl.mirror_quad(grid("12 / 00"), True), "1201 / 0002 / 2000 / 1021")


def test_fractal():
    g = grid("20 / 02")
    assert same(dsl.fractal(g, "filled"), "2000 / 0200 / 0020 / 0002")
    assert same(dsl.fractal(g, "empty"), "0020 / 0002 / 2000 / 0200")
    assert same(dsl.fractal(g, 2), "2000 / 0200 / 0020 / 0002")
    assert same(dsl.fractal(grid("22 / 02"), "commonest"), "2222 / 0202 / 0022 / 0002")


def test_reflect_tile_and_continue_pattern():
    assert same(dsl.reflect_tile(grid("12"), 1, 3, False), "122112")
    assert same(dsl.reflect_tile(grid("1 / 2"), 2, 1, True), "2 / 1 / 1 / 2")
    assert same(dsl.continue_pattern(grid("121"), 1, 2), "121212")
    assert same(dsl.continue_pattern(grid("1 / 2 / 3 / 1"), 1.5, 1), "1 / 2 / 3 / 1 / 2 / 3")


def test_dedupe():
    assert same(dsl.dedupe(grid("1122 / 1122 / 3344")), "12 / 34")


def test_summaries():
    assert same(dsl.count_row(grid("300 / 033")), "333")
    assert same(dsl.commonest_colour(grid("0000 / 1220 / 0002")), "2")
    with pytest.raises(ValueError):
        dsl.commonest_colour(grid("000 / 120"))
