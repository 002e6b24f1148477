"""What an ARC task is, and its JSON layout read with every grid validated.

Every task source parses through :func:`parse_task` or :func:`parse_example`, so a malformed
task gets the same one-line message (file, task, example, problem) wherever it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arcray.arc.grid import Grid, grid_problem
from arcray.errors import TaskFormatError
from arcray.text import printable

# A task id is data, never a path or markup: it names files (eval-*/, submissions) and is printed.
# ARC's ids are 8 hex digits; re-arc's and users' are words. 1-64 of these, not starting with '.'.
TASK_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}")
TASK_ID_RULE = "1-64 letters, digits, '_', '-' and '.' (not first)"


def shown_id(task_id: object) -> str:
    """A task id as it may be printed, whatever it holds (escape sequences, newlines, markup)."""
    return printable(repr(task_id) if not isinstance(task_id, str) or not TASK_ID.fullmatch(task_id) else task_id,
                     limit=80, one_line=True)


def check_task_id(task_id: object, where: str) -> str:
    """``task_id`` when it is a valid id; else TaskFormatError naming it (escaped) and the rule."""
    if isinstance(task_id, str) and TASK_ID.fullmatch(task_id):
        return task_id
    raise TaskFormatError(f"{where}: task id {shown_id(task_id)} is not a task id; ids are {TASK_ID_RULE}: rename it")


@dataclass(frozen=True)
class Example:
    """One input grid and, where known, its output grid."""

    input: Grid
    output: Grid | None = None


@dataclass(frozen=True)
class Task:
    """An ARC task: demonstration pairs and test inputs (outputs when known)."""

    id: str
    train: tuple[Example, ...]
    test: tuple[Example, ...]
    source: str = field(default="", compare=False)

    @property
    def has_test_outputs(self) -> bool:
        return all(example.output is not None for example in self.test)

    @property
    def prompt_cells(self) -> int:
        """Cells a prompt shows: every train input and output, and the test inputs (about its tokens)."""
        grids = [g for e in self.train for g in (e.input, e.output) if g is not None] + [e.input for e in self.test]
        return sum(len(grid) * len(grid[0]) for grid in grids)

    def to_json(self) -> dict[str, Any]:
        """The task in the ARC JSON layout (test outputs only where known)."""

        def pair(example: Example) -> dict[str, Any]:
            out: dict[str, Any] = {"input": example.input}
            if example.output is not None:
                out["output"] = example.output
            return out

        return {"train": [pair(e) for e in self.train], "test": [pair(e) for e in self.test]}


def parse_task(task_id: str, raw: Any, path: Path, source: str) -> Task:
    """The task in ARC JSON layout ``raw`` (read from ``path``), validated, its id first."""
    check_task_id(task_id, str(path))
    where = f"{path}, task {task_id}"
    if not isinstance(raw, dict):
        raise TaskFormatError(f"{where}: a task must be an object with 'train' and 'test' lists")
    for key in ("train", "test"):
        if key not in raw:
            raise TaskFormatError(f"{where}: missing '{key}' list")
        if not isinstance(raw[key], list):
            raise TaskFormatError(f"{where}: '{key}' must be a list of examples")
    if not raw["train"]:
        raise TaskFormatError(f"{where}: empty train set; a task needs at least one demonstration pair")
    if not raw["test"]:
        raise TaskFormatError(f"{where}: empty test set; a task needs at least one test input")
    train = tuple(parse_example(e, f"{where}: train[{i}]", needs_output=True) for i, e in enumerate(raw["train"]))
    test = tuple(parse_example(e, f"{where}: test[{i}]", needs_output=False) for i, e in enumerate(raw["test"]))
    return Task(str(task_id), train, test, source)


def parse_example(raw: Any, where: str, *, needs_output: bool, why: str = "every train pair needs one") -> Example:
    """One ``{"input": grid, "output": grid}`` object, validated; errors start with ``where``."""
    if not isinstance(raw, dict):
        raise TaskFormatError(f"{where}: an example must be an object with 'input' (and 'output')")
    if "input" not in raw:
        raise TaskFormatError(f"{where}: missing 'input'")
    check_grid(raw["input"], f"{where} input")
    output = raw.get("output")
    if output is None:
        if needs_output:
            raise TaskFormatError(f"{where}: missing 'output'; {why}")
    else:
        check_grid(output, f"{where} output")
    return Example(raw["input"], output)


def check_grid(value: Any, where: str) -> None:
    """Raise TaskFormatError ``where: problem`` unless ``value`` is an ARC grid."""
    problem = grid_problem(value)
    if problem:
        raise TaskFormatError(f"{where}: {problem}")
