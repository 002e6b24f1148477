"""``kaggle:FILE``: an ARC Prize ``arc-agi_*_challenges.json``, task ids mapped to tasks.

The ``arc-agi_*_solutions.json`` beside it, when present, fills in the test outputs. A bare
path to such a file works too (the ``file`` source hands task-id mappings over to here).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from arcray.arc.grid import Grid
from arcray.arc.sources.registry import existing_path, register_source
from arcray.arc.task_format import Example, Task, check_grid, parse_task
from arcray.errors import TaskFormatError
from arcray.jsonl import read_json


@register_source(
    "kaggle",
    syntax="a Kaggle *_challenges.json",
    summary="task ids mapped to tasks; the *_solutions.json beside it fills in the test outputs",
)
def load(arg: str) -> list[Task]:
    path = existing_path("kaggle", arg, folder=False)
    data = read_json(path, TaskFormatError)
    if not isinstance(data, dict) or ("train" in data and not isinstance(data["train"], dict)):
        raise TaskFormatError(f"{path}: expected task ids mapped to tasks (a Kaggle *_challenges.json); "
                              "for a single task file drop the 'kaggle:' prefix")
    return tasks_from_mapping(data, path)


def tasks_from_mapping(data: dict[str, Any], path: Path) -> list[Task]:
    """The tasks of a task-id → task mapping read from ``path``, with any solutions beside it."""
    solutions = _load_solutions(path)
    tasks = []
    for task_id, raw in data.items():
        task = parse_task(task_id, raw, path, str(path))
        if task_id in solutions:
            task = _with_solutions(task, solutions[task_id], path)
        tasks.append(task)
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
        check_grid(grid, f"{where}: test[{i}] output")
        test.append(Example(example.input, grid))
    return Task(task.id, task.train, tuple(test), task.source)
