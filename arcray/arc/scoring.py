"""A student's attempts, judged: two attempts per test input, and every figure with its 95% interval.

Selection uses the train pairs only: a task's programs are ranked by train pairs right, then by
whether they ran on every train input, then by shortness; each test input's two attempts are the
first two *distinct* grids down that ranking (ARC Prize scores the better of two). Test outputs
are read only afterwards, to score.

Intervals are percentile bootstraps over tasks (``scipy.stats.bootstrap``): the tasks are the
sample, so an interval says how much a figure could move on another draw of tasks of this kind.
A paired interval for "fine-tuned minus base" resamples the same tasks for both.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from arcray.arc.attempt import Attempt, CandidateRecord
from arcray.arc.grid import Grid
from arcray.arc.tasks import Task

CONFIDENCE = 0.95
RESAMPLES = 2000


def _rank(candidate: CandidateRecord) -> tuple:
    return (candidate.train_correct, candidate.train_runnable, -len(candidate.code or "x" * 10**6))


def two_attempts(attempt: Attempt, tests: int) -> list[list[Grid]]:
    """Per test input, up to two distinct grids, best program first (train pairs only decide)."""
    ranked = sorted((c for c in attempt.programs if c.code is not None), key=_rank, reverse=True)
    out: list[list[Grid]] = []
    for index in range(tests):
        grids: list[Grid] = []
        for candidate in ranked:
            grid = candidate.test_outputs[index] if index < len(candidate.test_outputs) else None
            if grid is not None and grid not in grids:
                grids.append(grid)
            if len(grids) == 2:
                break
        if not grids and index < len(attempt.test_outputs) and attempt.test_outputs[index] is not None:
            grids.append(attempt.test_outputs[index])  # a record written before candidates kept their grids
        out.append(grids)
    return out


@dataclass(frozen=True)
class TaskScore:
    """One task's figures for one student."""

    task_id: str
    solved: bool  # pass@2: every test output matched by one of its two attempts
    solved_first: bool  # pass@1: by the first attempt
    train_fit: bool  # some program fits every train pair
    runnable: float  # share of its programs that returned a grid for every train input
    programs: int
    sized: float = 0.0  # share of its programs whose grids had the expected size on every train input

    def as_dict(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "solved": self.solved, "solved_first": self.solved_first,
                "train_fit": self.train_fit, "runnable": round(self.runnable, 4), "programs": self.programs,
                "sized": round(self.sized, 4)}


def score_task(task: Task, attempt: Attempt, attempts: list[list[Grid]]) -> TaskScore:
    programs = [c for c in attempt.programs]
    wanted = [e.output for e in task.test]
    known = all(w is not None for w in wanted) and bool(wanted)
    solved = known and all(w in got for w, got in zip(wanted, attempts))
    first = known and all(got[:1] == [w] for w, got in zip(wanted, attempts))
    total = attempt.train_total or len(task.train)
    return TaskScore(
        task_id=task.id, solved=solved, solved_first=first,
        train_fit=any(c.train_correct == total for c in programs),
        runnable=sum(c.train_runnable for c in programs) / len(programs) if programs else 0.0,
        programs=len(programs),
        sized=sum(bool(c.train_sized) for c in programs) / len(programs) if programs else 0.0,
    )


def interval(values: Sequence[float], *, seed: int = 0) -> tuple[float, float]:
    """The 95% percentile-bootstrap interval of the mean over tasks."""
    from scipy.stats import bootstrap

    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return (0.0, 0.0)
    if np.all(data == data[0]) or data.size == 1:
        return (float(data[0]), float(data[0]))  # every resample is the same: the interval is the point
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = bootstrap((data,), np.mean, confidence_level=CONFIDENCE, n_resamples=RESAMPLES, method="percentile",
                           random_state=np.random.default_rng(seed))
    return (float(result.confidence_interval.low), float(result.confidence_interval.high))


def figure(values: Sequence[float], *, seed: int = 0) -> dict[str, float]:
    """{value, low, high}: the mean over tasks and its 95% interval."""
    low, high = interval(values, seed=seed)
    return {"value": round(float(np.mean(values)) if len(values) else 0.0, 4), "low": round(low, 4), "high": round(high, 4)}


def figures(scores: Sequence[TaskScore]) -> dict[str, dict[str, float]]:
    """The report's figures for one student, each with its interval."""
    return {
        "solved": figure([s.solved for s in scores]),
        "solved_first": figure([s.solved_first for s in scores]),
        "train_fit": figure([s.train_fit for s in scores]),
        "runnable": figure([s.runnable for s in scores]),
        "sized": figure([s.sized for s in scores]),
    }


def paired_difference(after: Sequence[TaskScore], before: Sequence[TaskScore], field: str = "solved") -> dict[str, float]:
    """``after`` minus ``before`` on the same tasks, with the paired bootstrap's 95% interval."""
    by_task = {s.task_id: s for s in before}
    shared = [s for s in after if s.task_id in by_task]
    return figure([float(getattr(s, field)) - float(getattr(by_task[s.task_id], field)) for s in shared])


def format_figure(value: dict[str, float], percent: bool = True) -> str:
    """``12.5% [4.2, 25.0]``: a figure and its interval, for a report's table."""
    if percent:
        return f"{100 * value['value']:.1f}% [{100 * value['low']:.1f}, {100 * value['high']:.1f}]"
    return f"{value['value']:.3f} [{value['low']:.3f}, {value['high']:.3f}]"
