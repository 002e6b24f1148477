"""Colours, objects, drawing, filling and completion primitives, on hand-made grids."""

import pytest
from search_grids import grid, same

import arcdsl as dsl


def test_colour_primitives():
    g = grid("120 / 000")
    assert same(dsl.recolour(g, {1: 2, 2: 1}), "210 / 000")
    assert same(dsl.fill_with_mode(g), "000 / 000")
    assert same(dsl.keep_colour(g, 2), "020 / 000")


def test_object_crops_and_keeps():
    g = grid("0000 / 0110 / 0110 / 2000")
    assert same(dsl.crop_object(g, "largest", False, True), "11 / 11")
    assert same(dsl.keep_object(g, "smallest", False, True), "0000 / 0000 / 0000 / 2000")


def test_recolour_by_rank_and_size():
    g = grid("1101 / 0001 / 1001")
    assert same(dsl.recolour_by_rank(g, {0: 2, -1: 3}, None, True), "1102 / 0002 / 3002")
    assert same(dsl.recolour_by_size(g, {1: 4}, 5, True), "5505 / 0005 / 4005")


def test_erase_small_fill_boxes_hollow_and_closed_loops():
    assert same(dsl.erase_small(grid("1000 / 0022 / 0022"), 1), "0000 / 0022 / 0022")
    assert same(dsl.fill_boxes(grid("1000 / 0100 / 0000 / 0000"), 5), "1500 / 5100 / 0000 / 0000")
    assert same(dsl.recolour_inside(grid("00000 / 01110 / 01110 / 01110 / 00000"), 2), "00000 / 01110 / 01210 / 01110 / 00000")
    assert same(dsl.hollow(grid("00000 / 01110 / 01110 / 01110 / 00000")), "00000 / 01110 / 01010 / 01110 / 00000")
    ring_and_bar = grid("11100 / 10100 / 11100 / 00000 / 22200")
    assert same(dsl.recolour_closed(ring_and_bar, 3), "33300 / 30300 / 33300 / 00000 / 22200")


def test_lines():
    assert same(dsl.connect_pairs(grid("10010 / 00000 / 20000"), 5, "rows"), "15510 / 00000 / 20000")
    assert same(dsl.connect_pairs(grid("100 / 000 / 100"), None, "cols"), "100 / 100 / 100")
    assert same(dsl.extend_rays(grid("000 / 010 / 000"), "down", None), "000 / 010 / 010")
    assert same(dsl.extend_rays(grid("000 / 010 / 020"), "cross", 1), "010 / 111 / 020")
    assert same(dsl.halo(grid("000 / 020 / 000"), 2, 1, "side"), "010 / 121 / 010")
    assert same(dsl.halo(grid("000 / 020 / 000"), 2, 1, "corner"), "101 / 020 / 101")
    assert same(dsl.halo(grid("000 / 020 / 000"), 2, 1, "either"), "111 / 121 / 111")
    assert same(dsl.paint_empty_lines(grid("000 / 010 / 000"), 4), "444 / 414 / 444")
    assert same(dsl.draw_border(grid("000 / 000 / 000"), 8), "888 / 808 / 888")


def test_gravity():
    g = grid("100 / 020 / 000")
    assert same(dsl.gravity(g, "down"), "000 / 000 / 120")
    assert same(dsl.gravity(g, "up"), "120 / 000 / 000")
    assert same(dsl.gravity(g, "right"), "001 / 002 / 000")
    assert same(dsl.gravity(g, "left"), "100 / 200 / 000")


def test_fill_enclosed():
    g = grid("11100 / 10100 / 11100 / 00000")
    assert same(dsl.fill_enclosed(g, 4), "11100 / 14100 / 11100 / 00000")


def test_symmetric_and_periodic_completion():
    assert same(dsl.symmetric_complete(grid("1221 / 3553 / 3593 / 1991"), 9), "1221 / 3553 / 3553 / 1221")
    assert same(dsl.periodic_complete(grid("121212 / 343434 / 120012"), 0), "121212 / 343434 / 121212")
    with pytest.raises(ValueError):
        dsl.periodic_complete(grid("00 / 00"), 0)
    assert same(dsl.hole_patch(grid("1221 / 3553 / 3599 / 1299"), 9, "mirror"), "53 / 21")


def test_mirror_overlay():
    assert same(dsl.mirror_overlay(grid("100 / 020"), "lr"), "101 / 020")
    assert same(dsl.mirror_overlay(grid("10 / 00"), "both"), "11 / 11")
    with pytest.raises(ValueError):
        dsl.mirror_overlay(grid("10"), "diagonal")
