"""A bare ``FOLDER`` (or ``folder:FOLDER``): one JSON file per task, the original ARC layout.

Every ``*.json`` in it is read as the ``file`` source reads one file; ``*_solutions.json``
files are left to the challenges file beside them.
"""

from __future__ import annotations

from pathlib import Path

from arcray.arc.sources.registry import existing_path, register_source
from arcray.arc.sources.file import load_file
from arcray.arc.task_format import Task
from arcray.errors import TaskFormatError


@register_source(
    "folder",
    syntax="a FOLDER of task files",
    summary="one JSON file per task, the original ARC layout",
    recognises=lambda spec: Path(spec).expanduser().is_dir(),
)
def load(arg: str) -> list[Task]:
    path = existing_path("folder", arg, folder=True)
    files = sorted(p for p in path.glob("*.json") if not p.name.endswith("_solutions.json"))
    if not files:
        raise TaskFormatError(f"{path}: no .json task files in this folder")
    tasks: list[Task] = []
    for file in files:
        tasks.extend(load_file(file))
    return sorted(tasks, key=lambda t: t.id)
