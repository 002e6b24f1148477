"""ARC Prize submissions: ``{task_id: [{"attempt_1": grid, "attempt_2": grid}, …]}``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from arcray.arc.grid import Grid, grid_problem
from arcray.arc.tasks import Task
from arcray.errors import TaskFormatError
from arcray.jsonl import read_json

FALLBACK_GRID: Grid = [[0]]
ATTEMPTS = ("attempt_1", "attempt_2")


def build_submission(
    tasks: Iterable[Task],
    predictions: Mapping[str, Sequence[Sequence[Grid | None]]],
    *,
    fallback: Grid = FALLBACK_GRID,
) -> dict[str, list[dict[str, Grid]]]:
    """One entry per test input of every task, in order; fallback where there is no answer.

    ``predictions[task_id][test_index]`` lists up to two candidate grids, best first.
    """
    submission: dict[str, list[dict[str, Grid]]] = {}
    for task in tasks:
        per_test = list(predictions.get(task.id, []))
        entries = []
        for index in range(len(task.test)):
            candidates = [g for g in (per_test[index] if index < len(per_test) else []) if g is not None and not grid_problem(g)]
            first = candidates[0] if candidates else fallback
            second = candidates[1] if len(candidates) > 1 else first
            entries.append({"attempt_1": first, "attempt_2": second})
        submission[task.id] = entries
    return submission


def write_submission(submission: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Write atomically, so a crash never leaves half a submission."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(submission))
    os.replace(tmp, path)
    return path


def load_submission(path: str | os.PathLike) -> dict[str, list[dict[str, Grid]]]:
    """Read and validate a submission file; one-line errors naming what is wrong."""
    path = Path(path)
    data = read_json(path, TaskFormatError)
    if not isinstance(data, dict):
        raise TaskFormatError(f"{path}: a submission maps task ids to lists of attempts")
    for task_id, entries in data.items():
        if not isinstance(entries, list):
            raise TaskFormatError(f"{path}, task {task_id}: expected a list with one attempts object per test input")
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not any(k in entry for k in ATTEMPTS):
                raise TaskFormatError(f"{path}, task {task_id}, test {i}: expected {{'attempt_1': grid, 'attempt_2': grid}}")
    return data


@dataclass(frozen=True)
class SubmissionScore:
    """The ARC Prize score: the mean over test outputs of 'either attempt matches exactly'."""

    correct: int
    total: int
    per_task: dict[str, tuple[int, int]] = field(repr=False)
    missing_tasks: tuple[str, ...] = ()

    @property
    def score(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def to_dict(self) -> dict:
        return {
            "score": round(self.score, 6),
            "correct": self.correct,
            "total": self.total,
            "missing_tasks": list(self.missing_tasks),
            "per_task": {k: {"correct": c, "total": t} for k, (c, t) in self.per_task.items()},
        }


def score_submission(submission: Mapping[str, Any], tasks: Iterable[Task]) -> SubmissionScore:
    """Score against tasks with known test outputs; a missing task scores zero."""
    per_task: dict[str, tuple[int, int]] = {}
    missing = []
    for task in tasks:
        if not task.has_test_outputs:
            continue
        entries = submission.get(task.id)
        if entries is None:
            missing.append(task.id)
            entries = []
        correct = 0
        for index, example in enumerate(task.test):
            entry = entries[index] if index < len(entries) and isinstance(entries[index], dict) else {}
            correct += any(entry.get(key) == example.output for key in ATTEMPTS)
        per_task[task.id] = (correct, len(task.test))
    return SubmissionScore(
        correct=sum(c for c, _ in per_task.values()),
        total=sum(t for _, t in per_task.values()),
        per_task=per_task,
        missing_tasks=tuple(missing),
    )
