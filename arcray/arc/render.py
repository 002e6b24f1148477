"""Turning grids and tasks into prompt text, and solver code back out of model text."""

from __future__ import annotations

import ast
import itertools
import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from arcray.arc.facts import task_facts
from arcray.arc.grid import Grid
from arcray.arc.tasks import Task
from arcray.fences import PYTHON, fenced_blocks


class RenderConfig(BaseModel):
    """How grids and tasks are written into prompts."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    grid_format: Literal["digits", "spaced", "json"] = Field(
        "digits", description="digits: '0120' per row; spaced: '0 1 2 0'; json: one JSON list per row"
    )
    show_shapes: bool = Field(True, description="write each grid's rows x columns above it")
    include_test_outputs: bool = Field(False, description="also show test outputs (never for the teacher)")
    test_inputs: bool = Field(True, description="show the test inputs (a program does not need them; a small student's budget may)")
    max_train_pairs: int | None = Field(None, ge=1, description="show at most this many demonstration pairs (solvers are "
                                        "still judged on all of them)")
    prompt: Literal["full", "compact"] = Field(
        "full", description="full: the teacher's instructions (numpy, the standard library); compact: a two-line "
        "instruction to write solve(grid) with arcdsl, for a small student's token budget")
    facts: bool = Field(False, description="end with one line of what every train pair shows: the output size's rule "
                        "and the colours added and removed (arcray/arc/facts.py), for a small student to condition on")
    library: bool = Field(False, description="also list arcdsl: in the full prompt one line per function with its "
                          "docstring (a teacher such as Gemini); in the compact one each primitive's name(parameters)")
    exemplars: int = Field(0, ge=0, le=16, description="end the prompt with the programs of this many training-side solved "
                           "tasks whose facts are nearest the task's (arcray/arc/exemplars.py); prepare and evaluate alike")
    exemplar_order: Literal["facts", "fit"] = Field(
        "facts", description="facts: the programs whose task's facts are nearest; fit: every pool program run on the "
        "task's train pairs (DSL primitives, in this process) and listed by how well it fits them, facts breaking ties")
    exemplar_pool: str | None = Field(None, description="the exemplars.json file of the training side's programs they are "
                                      "drawn from (prepare writes it; every process loads it once): a path, never the pool "
                                      "itself, so configs, manifests and actors carry a name, not the programs")


DEFAULT_RENDER = RenderConfig()


def render_grid(grid: Grid, config: RenderConfig = DEFAULT_RENDER) -> str:
    """One row a line, in the configured format."""
    if config.grid_format == "digits":
        return "\n".join("".join(str(c) for c in row) for row in grid)
    if config.grid_format == "spaced":
        return "\n".join(" ".join(str(c) for c in row) for row in grid)
    return "\n".join(json.dumps(row) for row in grid)


def _labelled(label: str, grid: Grid, config: RenderConfig) -> str:
    size = f" ({len(grid)}x{len(grid[0])})" if config.show_shapes else ""
    return f"{label}{size}:\n{render_grid(grid, config)}"


def render_task(task: Task, config: RenderConfig = DEFAULT_RENDER) -> str:
    """The train pairs and the test inputs as prompt text."""
    parts = []
    for i, example in enumerate(task.train[: config.max_train_pairs], 1):
        parts.append(f"Example {i}\n{_labelled('Input', example.input, config)}\n{_labelled('Output', example.output, config)}")
    for i, example in enumerate(task.test if config.test_inputs else (), 1):
        block = f"Test {i}\n{_labelled('Input', example.input, config)}"
        if config.include_test_outputs and example.output is not None:
            block += "\n" + _labelled("Output", example.output, config)
        parts.append(block)
    if config.facts and (facts := task_facts(task)):
        parts.append(facts)
    return "\n\n".join(parts)


_DEFINES_SOLVE = re.compile(r"^[ \t]*def[ \t]+solve[ \t]*\(", re.MULTILINE)  # [ \t], not \s: no scan across lines
_CODE_START = re.compile(r"^(?:import |from \S+ import |def |class |@|[A-Za-z_][A-Za-z0-9_]* *=)", re.MULTILINE)
MAX_PARSES = 8  # plain code: parses per reply, so any reply costs a bounded multiple of its length


def extract_code(text: str) -> str | None:
    """The solver source in model text: the last fenced block defining ``solve``.

    Plain code (no fences) is accepted too: the whole text when it parses, else the tail from one
    of the first code-looking lines when it parses, else that code cut before the line where
    parsing fails (prose after it). None when no ``solve`` is defined anywhere, or nothing parses
    within :data:`MAX_PARSES` tries.
    """
    blocks = fenced_blocks(text)
    for block in reversed(blocks):
        if block.language in PYTHON and _DEFINES_SOLVE.search(block.body):
            return block.body.strip("\n") + "\n"
    if blocks or not _DEFINES_SOLVE.search(text):
        return None
    return _plain_code(text)


def _plain_code(text: str) -> str | None:
    tries = MAX_PARSES
    starts = [0, *(m.start() for m in itertools.islice(_CODE_START.finditer(text), MAX_PARSES // 2))]
    for start in dict.fromkeys(starts):
        tries -= 1
        if _parse_error(text[start:]) is None:
            return text[start:].strip("\n") + "\n"
    # Prose after the code: cut before the line where parsing fails, again, while tries remain.
    lines = text[starts[1] if len(starts) > 1 else 0:].splitlines()
    while tries > 0 and lines:
        tries -= 1
        candidate = "\n".join(lines)
        if not _DEFINES_SOLVE.search(candidate):
            return None
        failed_at = _parse_error(candidate)
        if failed_at is None:
            return candidate.strip("\n") + "\n"
        lines = lines[: max(min(failed_at - 1, len(lines) - 1), 0)]
    return None


def _parse_error(source: str) -> int | None:
    """None when ``source`` parses, else the line where parsing failed."""
    try:
        ast.parse(source)
    except SyntaxError as error:
        return error.lineno or len(source.splitlines())
    except (ValueError, RecursionError, MemoryError):
        return len(source.splitlines())
    return None


