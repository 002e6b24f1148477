"""The ARC experiment's figures over replicates: each held-out split on its own, then pooled over splits.

A replicate is one held-out split (``prepare.seed``): its own training set, student and held-out tasks,
scored for both students on the same tasks. Every figure is a share over tasks with its 95% interval;
pooled figures use the two-level bootstrap of :mod:`arcray.stats` (splits, then tasks within them), so
that an effect seen on one split only does not get a tight pooled interval. A task held out by two
splits counts once per split: each split's student is a different model.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from arcray.arc.scoring import TaskScore
from arcray.stats import excludes_zero, paired_values, pooled_figure

FIELDS = ("solved", "solved_first", "train_fit", "runnable", "sized")
PAIRED = ("solved", "runnable", "sized")
BASE, TUNED = "base", "fine-tuned"


def _values(scores: Sequence[TaskScore], field: str) -> dict[str, float]:
    return {s.task_id: float(getattr(s, field)) for s in scores}


def split_figures(students: Mapping[str, Sequence[TaskScore]]) -> dict[str, Any]:
    """One split: each student's figures, and the paired difference (fine-tuned minus base) on their shared tasks."""
    result: dict[str, Any] = {name: {field: pooled_figure([list(_values(scores, field).values())]) for field in FIELDS}
                              for name, scores in students.items()}
    if {BASE, TUNED} <= students.keys():
        result["paired"] = {field: pooled_figure([paired_values(_values(students[TUNED], field), _values(students[BASE], field))])
                            for field in PAIRED}
    return result


def pooled_figures(splits: Mapping[str, Mapping[str, Sequence[TaskScore]]]) -> dict[str, Any]:
    """Every split's students pooled: per student and field, and the paired difference, over splits and their tasks."""
    names = sorted({name for students in splits.values() for name in students}, key=[BASE, TUNED].index)
    result: dict[str, Any] = {name: {field: pooled_figure([list(_values(students[name], field).values())
                                                            for students in splits.values() if name in students])
                                     for field in FIELDS}
                              for name in names}
    paired = [students for students in splits.values() if {BASE, TUNED} <= students.keys()]
    if paired:
        result["paired"] = {field: pooled_figure([paired_values(_values(s[TUNED], field), _values(s[BASE], field))
                                                  for s in paired]) for field in PAIRED}
    result["tasks"] = {name: sum(len(students.get(name, ())) for students in splits.values()) for name in names}
    result["solved_count"] = {name: sum(int(s.solved) for students in splits.values() for s in students.get(name, ()))
                              for name in names}
    return result


def goal(pooled: Mapping[str, Any], splits: int) -> str:
    """Issue 29's line for the main job: solved, pooled over the splits, with a paired interval above zero."""
    if "paired" not in pooled:
        return "Goal (solved pooled over splits, paired interval above zero): not measured (one student only)."
    solved = pooled["paired"]["solved"]
    verdict = "met" if excludes_zero(solved) == "above zero" else "not met"
    counts = pooled["solved_count"]
    return (f"Goal (more tasks solved, pooled over {splits} split{'s' * (splits != 1)}, paired 95% interval above zero): "
            f"**{verdict}**: fine-tuned {counts.get(TUNED, 0)} vs base {counts.get(BASE, 0)} of {pooled['tasks'].get(TUNED, 0)}, "
            f"paired {100 * solved['value']:+.1f} points [{100 * solved['low']:+.1f}, {100 * solved['high']:+.1f}], "
            f"{excludes_zero(solved)}.")
