"""A bare ``FILE`` (or ``file:FILE``): one task JSON, or a file of task ids mapped to tasks."""

from __future__ import annotations

from pathlib import Path

from arcray.arc.sources.registry import existing_path, register_source
from arcray.arc.sources.kaggle import tasks_from_mapping
from arcray.arc.task_format import Task, parse_task
from arcray.errors import TaskFormatError
from arcray.jsonl import read_json


@register_source(
    "file",
    syntax="a task FILE",
    summary="one task in the ARC JSON layout (its id is the file name), or task ids mapped to tasks",
    recognises=lambda spec: Path(spec).expanduser().is_file(),
)
def load(arg: str) -> list[Task]:
    return load_file(existing_path("file", arg, folder=False))


def load_file(path: Path) -> list[Task]:
    """The task(s) in one JSON file: a task named by the file's stem, or a task-id mapping."""
    data = read_json(path, TaskFormatError)
    if isinstance(data, list):
        raise TaskFormatError(f"{path}: expected a JSON object (a task, or task ids mapped to tasks), got a list; "
                              "a list of examples is re-arc's layout: load its folder as rearc:FOLDER")
    if not isinstance(data, dict):
        raise TaskFormatError(f"{path}: expected a JSON object (a task, or task ids mapped to tasks)")
    if "train" in data and not isinstance(data.get("train"), dict):
        return [parse_task(path.stem, data, path, str(path))]
    return tasks_from_mapping(data, path)
