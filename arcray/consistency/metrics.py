"""Metrics, each registered once by name with its per-prompt value, its aggregation and its direction.

A prompt's n responses flow through the filter chain (extract → majority vote) into a
:class:`Scored`; every registered metric reads it once, per prompt, and a run's summary
aggregates those values over prompts. Nothing else computes a metric.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from arcray.consistency.answer import Answer
from arcray.consistency.vote import Vote
from arcray.errors import ConfigError, did_you_mean


@dataclass(frozen=True)
class Scored:
    """One prompt after the filter chain: its raw responses (None: a failed completion), answers and vote."""

    responses: Sequence[str | None]
    answers: Sequence[Answer]
    vote: Vote

    @property
    def judged(self) -> bool:
        """Whether correctness can be told (a reference or tests exist)."""
        return any(answer.correct is not None for answer in self.answers)

    @property
    def majority_correct(self) -> bool:
        return any(a.key == self.vote.majority and a.correct for a in self.answers) if self.vote.majority else False


@dataclass(frozen=True)
class Metric:
    name: str
    per_prompt: Callable[[Scored], float | None]  # None: not measurable for this prompt
    aggregation: str
    higher_is_better: bool
    description: str


AGGREGATIONS: dict[str, Callable[[list[float]], float]] = {"mean": statistics.fmean, "median": statistics.median}
METRICS: dict[str, Metric] = {}


def register_metric(name: str, *, aggregation: str = "mean", higher_is_better: bool = True, description: str = ""):
    """Register ``fn(scored) -> float | None`` as metric ``name``; a name is registered once."""
    if aggregation not in AGGREGATIONS:
        raise ConfigError(f"unknown aggregation {aggregation!r}; choose one of {', '.join(AGGREGATIONS)}")

    def decorate(fn: Callable[[Scored], float | None]) -> Callable[[Scored], float | None]:
        if name in METRICS:
            raise ConfigError(f"metric {name!r} is already registered; pick another name")
        METRICS[name] = Metric(name, fn, aggregation, higher_is_better, description or (fn.__doc__ or "").strip())
        return fn

    return decorate


def get_metric(name: str) -> Metric:
    try:
        return METRICS[name]
    except KeyError:
        raise ConfigError(f"unknown metric {name!r}{did_you_mean(name, list(METRICS))}; choose one of {', '.join(METRICS)}") from None


@register_metric("consistency")
def consistency(s: Scored) -> float:
    """Share of the n samples that agree with the most common answer."""
    return s.vote.consistency


@register_metric("distinct_responses", higher_is_better=False)
def distinct_responses(s: Scored) -> float:
    """Different raw responses among the n (whitespace at the ends ignored), as the plan counted them."""
    return float(len({text.strip() for text in s.responses if text is not None}))


@register_metric("distinct_answers", higher_is_better=False)
def distinct_answers(s: Scored) -> float:
    """Different extracted answers among the n."""
    return float(len(s.vote.counts))


@register_metric("tie_rate", higher_is_better=False)
def tie(s: Scored) -> float:
    """1 when two or more answers share the most votes (over prompts: the tie rate)."""
    return float(s.vote.tie)


@register_metric("accuracy")
def accuracy(s: Scored) -> float | None:
    """Share of samples that are correct: MATH exact match, CODE pass@1 (estimated from n)."""
    if not s.judged:
        return None
    return sum(bool(a.correct) for a in s.answers) / len(s.answers)


@register_metric("maj_accuracy")
def maj_accuracy(s: Scored) -> float | None:
    """1 when the majority answer is correct (maj@n)."""
    return float(s.majority_correct) if s.judged else None


@register_metric("pass_at_n")
def pass_at_n(s: Scored) -> float | None:
    """1 when any of the n samples is correct (pass@n)."""
    return float(any(a.correct for a in s.answers)) if s.judged else None


def per_prompt(scored: Scored) -> dict[str, float | None]:
    """Every registered metric's value for one prompt."""
    return {name: metric.per_prompt(scored) for name, metric in METRICS.items()}


def aggregate(per_prompt_values: Iterable[dict[str, Any]]) -> dict[str, float | None]:
    """Each metric aggregated over prompts (prompts where it was not measurable left out; None if none)."""
    rows = list(per_prompt_values)
    summary: dict[str, float | None] = {}
    for name, metric in METRICS.items():
        values = [float(row[name]) for row in rows if row.get(name) is not None]
        summary[name] = round(AGGREGATIONS[metric.aggregation](values), 4) if values else None
    return summary


def failure_reasons(values: dict[str, Any], threshold: float) -> list[str]:
    """Why a prompt needs training data: a wrong majority answer, or consistency below ``threshold``."""
    reasons = []
    if values.get("maj_accuracy") == 0.0:
        reasons.append("wrong")
    if (values.get("consistency") or 0.0) < threshold:
        reasons.append("inconsistent")
    return reasons
