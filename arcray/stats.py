"""Figures over replicates: a share pooled over several held-out splits (or sampling seeds), with its 95% interval.

One split's interval (``arcray.arc.scoring.figure``) resamples its tasks. Pooled over replicates, the
interval must also carry how much the figure moves from one split (or one trained student) to the next,
so the bootstrap here has two levels: replicates are drawn with replacement, then the units (tasks or
prompts) within each drawn replicate. With one replicate it is the ordinary bootstrap over units. With
two or three replicates the outer level is coarse, and says so by widening the interval when the
replicates disagree: an effect that holds on one split only does not get a tight pooled interval.

Hand-written because scipy.stats.bootstrap resamples one level only (it has no clustered resampling).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 4000


def pooled_figure(groups: Sequence[Sequence[float]], *, seed: int = 0) -> dict[str, float]:
    """{value, low, high}: the mean over every unit of every replicate, and its two-level 95% percentile interval.

    ``groups`` holds one sequence of per-unit values per replicate (a paired difference is passed as the
    per-unit differences). Empty replicates are ignored; no units at all gives zeros.
    """
    data = [np.asarray(g, dtype=float) for g in groups if len(g)]
    if not data:
        return {"value": 0.0, "low": 0.0, "high": 0.0}
    everything = np.concatenate(data)
    value = float(everything.mean())
    if np.all(everything == everything[0]):
        return {"value": round(value, 4), "low": round(value, 4), "high": round(value, 4)}  # every resample is the point
    rng = np.random.default_rng(seed)
    k = len(data)
    sums, counts = np.zeros(RESAMPLES), np.zeros(RESAMPLES)
    chosen = rng.integers(0, k, size=(RESAMPLES, k)) if k > 1 else np.zeros((RESAMPLES, 1), dtype=int)
    for slot in range(k):
        for g, values in enumerate(data):
            rows = np.flatnonzero(chosen[:, slot] == g)
            if rows.size:
                picks = rng.integers(0, values.size, size=(rows.size, values.size))
                sums[rows] += values[picks].sum(axis=1)
                counts[rows] += values.size
    means = sums / counts
    tail = 100 * (1 - CONFIDENCE) / 2
    low, high = np.percentile(means, [tail, 100 - tail])
    return {"value": round(value, 4), "low": round(float(low), 4), "high": round(float(high), 4)}


def paired_values(after: dict[str, float], before: dict[str, float]) -> list[float]:
    """``after[unit] - before[unit]`` over the units both measured, in ``after``'s order."""
    return [float(after[unit]) - float(before[unit]) for unit in after if unit in before]


def excludes_zero(figure: dict[str, float]) -> str:
    """'above zero', 'below zero' or 'includes zero': how a difference's interval reads."""
    if figure["low"] > 0:
        return "above zero"
    if figure["high"] < 0:
        return "below zero"
    return "includes zero"
