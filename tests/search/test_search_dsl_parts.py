"""Primitives on grids made of equal parts or of cells between separator lines."""

import pytest
from search_grids import grid, same

import arcdsl as dsl

SIDE_BY_SIDE = grid("10511 / 11500")  # two 2x2 parts, a grey separator column


def test_split_parts_drops_separators():
    left, right = dsl.split_parts(SIDE_BY_SIDE, 1, 2)
    assert same(left, "10 / 11") and same(right, "11 / 00")
    assert len(dsl.split_parts(grid("1212"), 1, 2)) == 2
    with pytest.raises(ValueError):
        dsl.split_parts(grid("1234"), 1, 3)


def test_take_combine_and_overlay_parts():
    assert same(dsl.take_part(SIDE_BY_SIDE, 1, 2, 1), "11 / 00")
    assert same(dsl.combine_parts(SIDE_BY_SIDE, 1, 2, "all", 2), "20 / 00")
    assert same(dsl.combine_parts(SIDE_BY_SIDE, 1, 2, "any", 2), "22 / 22")
    assert same(dsl.combine_parts(SIDE_BY_SIDE, 1, 2, "one", 3), "03 / 33")
    assert same(dsl.combine_parts(grid("10500 / 00501"), 1, 2, "none", 3), "03 / 30")
    assert same(dsl.combine_parts(SIDE_BY_SIDE, 1, 2, "first_only", 4), "00 / 44")
    assert same(dsl.overlay_parts(grid("1002 / 0000"), 1, 2, False), "12 / 00")


def test_cells_between_separator_lines():
    g = grid("10502 / 00500 / 55555 / 10510 / 00500")
    cells = dsl.split_cells(g)
    assert len(cells) == 4
    assert dsl.cell_spans(g) == ([(0, 2), (3, 5)], [(0, 2), (3, 5)])
    assert dsl.spans_between([2], 5) == [(0, 2), (3, 5)]
    assert same(dsl.cells_to_pixels(grid("11522 / 11522 / 55555 / 33544 / 33544")), "12 / 34")
    assert same(dsl.select_cell(g, "unique"), "02 / 00")
    with pytest.raises(ValueError):
        dsl.select_cell(g, "most_filled")  # three cells tie with one filled cell


def test_select_part_and_square():
    assert same(dsl.select_part(grid("1011 / 0011"), 1, 2, "most_filled"), "11 / 11")
    assert same(dsl.select_square(grid("10 / 00 / 10 / 00 / 22 / 00"), "unique"), "22 / 00")
    with pytest.raises(ValueError):
        dsl.select_square(grid("12 / 34"), "unique")
