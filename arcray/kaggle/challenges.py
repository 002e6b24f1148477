"""ARC Prize's file pair (``arc-agi_NAME_challenges.json`` and ``…_solutions.json``) written from any task source,
so a bundle's notebook can be run locally, offline, on tasks with known answers before it goes to Kaggle."""

from __future__ import annotations

import json
from pathlib import Path

from arcray.arc.tasks import load_tasks
from arcray.errors import ArcrayError
from arcray.files import atomic_write


def write_challenges(source: str, out: Path, *, name: str = "evaluation", ids: list[str] | None = None,
                     limit: int | None = None, max_cells: int | None = None) -> Path:
    """The challenges file (test inputs only) and, where the source has them, the solutions beside it; its path."""
    tasks = load_tasks(source, ids=ids, limit=limit, max_cells=max_cells)
    if not tasks:
        raise ArcrayError(f"{source} selects no task; widen --limit or --max-cells")
    challenges = {t.id: {"train": t.to_json()["train"], "test": [{"input": p["input"]} for p in t.to_json()["test"]]}
                  for t in tasks}
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"arc-agi_{name}_challenges.json"
    atomic_write(path, json.dumps(challenges))
    if all(t.has_test_outputs for t in tasks):
        solutions = {t.id: [p["output"] for p in t.to_json()["test"]] for t in tasks}
        atomic_write(out / f"arc-agi_{name}_solutions.json", json.dumps(solutions))
    return path
