"""Every primitive: a one-line docstring, a phrase, and standalone source that runs with numpy alone."""

import ast
import inspect
import json
import subprocess
import sys

import numpy as np
from search_grids import grid

import arcdsl as dsl
from arcray.solver.emit import emit_solver
from arcray.solver.primitives import PRIMITIVES
from arcray.solver.program import Step, describe, run_program

BOARD = grid("0000000 / 0110020 / 0110000 / 0000003 / 0500000 / 0000000")
LOOP = grid("00000 / 01110 / 01010 / 01110 / 00000 / 00200")
HALVES = grid("1050 / 0051")
# One (grid, params) per primitive: enough to run it once and emit its solver.
SAMPLES = {
    "flip_lr": (BOARD, ()),
    "flip_ud": (BOARD, ()),
    "rotate_cw": (BOARD, ()),
    "rotate_ccw": (BOARD, ()),
    "rotate_180": (BOARD, ()),
    "transpose": (BOARD, ()),
    "antitranspose": (BOARD, ()),
    "shift": (BOARD, (1, -1)),
    "crop_to_content": (BOARD, ()),
    "crop_window": (BOARD, (1, 1, 2, 2)),
    "upscale": (HALVES, (2, 3)),
    "downscale": (BOARD, (2, 1)),
    "tile": (HALVES, (2, 2)),
    "mirror_tile": (HALVES, ("below",)),
    "mirror_quad": (grid("12 / 30"), (True,)),
    "fractal": (grid("10 / 01"), ("empty",)),
    "reflect_tile": (HALVES, (2, 3, True)),
    "continue_pattern": (grid("12 / 34 / 12"), (2, 1.5)),
    "crop_rarest": (LOOP, ()),
    "hole_patch": (grid("1221 / 3553 / 3599 / 1299"), (9, "mirror")),
    "cells_to_pixels": (grid("10502 / 00500 / 55555 / 10510 / 00500"), ()),
    "paint_empty_lines": (BOARD, (4,)),
    "recolour_inside": (LOOP, (5,)),
    "crop_colour": (BOARD, (2,)),
    "trim": (BOARD, ()),
    "upscale_by_colours": (HALVES, ()),
    "count_row": (BOARD, ()),
    "commonest_colour": (BOARD, ()),
    "dedupe": (BOARD, ()),
    "crop_object": (BOARD, ("largest", True, False)),
    "keep_object": (BOARD, ("unique_shape", False, True)),
    "erase_small": (BOARD, (1,)),
    "fill_boxes": (LOOP, (4,)),
    "hollow": (BOARD, ()),
    "recolour_closed": (LOOP, (3,)),
    "recolour": (BOARD, ({1: 7, 2: 8},)),
    "fill_with_mode": (BOARD, ()),
    "keep_colour": (BOARD, (1,)),
    "connect_pairs": (grid("1001 / 0000 / 1000"), (4, "both")),
    "extend_rays": (BOARD, ("cross", None)),
    "halo": (BOARD, (2, 4, "corner")),
    "draw_border": (BOARD, (8,)),
    "gravity": (BOARD, ("left",)),
    "fill_enclosed": (LOOP, (6,)),
    "mirror_overlay": (BOARD, ("both",)),
    "symmetric_complete": (grid("1221 / 3443 / 3493 / 1221"), (9,)),
    "periodic_complete": (grid("1212 / 1012"), (0,)),
    "take_part": (HALVES, (1, 2, 1)),
    "select_part": (HALVES, (1, 2, "most_colours")),
    "select_cell": (grid("10502 / 00500 / 55555 / 10510 / 00500"), ("unique",)),
    "select_square": (grid("10 / 00 / 22 / 00 / 10 / 00"), ("unique",)),
    "combine_parts": (HALVES, (1, 2, "any", 2)),
    "overlay_parts": (HALVES, (1, 2, True)),
    "recolour_by_rank": (BOARD, ({0: 4, -1: 9}, None, False)),
    "recolour_by_size": (BOARD, ({4: 6}, 7, True)),
}


def test_every_primitive_has_a_sample():
    assert sorted(SAMPLES) == sorted(PRIMITIVES)


def test_every_dsl_function_has_a_one_line_docstring_and_types():
    for name in dsl.__all__:
        function = getattr(dsl, name)
        doc = inspect.getdoc(function)
        assert doc and "\n" not in doc, f"{name} needs a one-line docstring"
        hints = inspect.signature(inspect.unwrap(function))
        assert hints.return_annotation is not inspect.Signature.empty, f"{name} needs a return type"
        assert all(p.annotation is not inspect.Parameter.empty for p in hints.parameters.values()), name


def test_every_primitive_returns_an_int_grid_and_reads_as_a_phrase():
    for name, (board, params) in SAMPLES.items():
        result = PRIMITIVES[name].function(board.copy(), *params)
        assert result.ndim == 2 and result.dtype.kind == "i", name
        phrase = describe((Step(name, params),))
        assert phrase.endswith(".") and "{" not in phrase, (name, phrase)


def test_standalone_solvers_import_only_numpy():
    for name, (board, params) in SAMPLES.items():
        tree = ast.parse(emit_solver((Step(name, params),), form="standalone"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        assert imported == {"numpy"}, name
        futures = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert futures == {"__future__"}, name  # annotations stay text: nothing but numpy is imported


def test_standalone_solvers_run_without_arcray_and_match_the_program():
    sources = {name: emit_solver((Step(name, params),), form="standalone") for name, (_, params) in SAMPLES.items()}
    grids = {name: board.tolist() for name, (board, _) in SAMPLES.items()}
    runner = (
        "import json, sys\n"
        "sys.modules['arcray'] = None  # as in the sandbox: arcray cannot be imported\n"
        "job = json.load(sys.stdin)\n"
        "results = {}\n"
        "for name, code in job['sources'].items():\n"
        "    namespace = {}\n"
        "    exec(code, namespace)\n"
        "    results[name] = namespace['solve'](job['grids'][name])\n"
        "print(json.dumps(results))\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", runner],
        input=json.dumps({"sources": sources, "grids": grids}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    for name, (board, params) in SAMPLES.items():
        assert results[name] == run_program((Step(name, params),), board).tolist(), name


def test_library_solvers_are_a_few_lines_and_match_the_program_in_the_sandbox():
    from arcray.arc.sandbox import Sandbox

    with Sandbox() as sandbox:
        for name, (board, params) in SAMPLES.items():
            code = emit_solver((Step(name, params),), "")
            assert code.splitlines()[0] == "from arcdsl import *" and len(code.splitlines()) == 6, name
            [outcome] = sandbox.run(code, [board.tolist()])
            assert outcome.ok and outcome.grid == run_program((Step(name, params),), board).tolist(), (name, outcome)


def test_a_two_step_solver_reads_well():
    program = (Step("crop_to_content"), Step("recolour", ({1: 2},)))
    code = emit_solver(program, form="standalone")
    assert code.startswith("from __future__ import annotations\n\nimport numpy as np\n")
    assert "def solve(grid):" in code and "grid = np.array(grid)" in code and "return grid.tolist()" in code
    assert '"""Crop the grid to the box around its non-background cells, then recolour blue (1) to red' in code
    assert "_memoise" not in code and "@" not in code
    namespace: dict = {}
    exec(code, namespace)
    assert namespace["solve"]([[0, 0], [0, 1]]) == [[2]]
    assert np.array_equal(run_program(program, [[0, 0], [0, 1]]), [[2]])
