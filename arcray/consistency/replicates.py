"""Before against after over replicates: every figure with its 95% interval, the paired differences, the goal.

A replicate is one measurement of the same question on other held-out prompts (and its own sampling
seed). Each stage (before, after) gives, per replicate, every prompt's metrics by prompt id
(``samples.jsonl``'s ``metrics``). Every figure here is :func:`arcray.stats.pooled_figure` over those
per-prompt values: per replicate (a bootstrap over its prompts) and pooled (replicates, then
prompts). A difference is paired: after minus before on the same prompt, then bootstrapped.

Pure arithmetic on records: no Ray, no model.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from arcray.stats import excludes_zero, paired_values, pooled_figure

PerPrompt = Mapping[str, Mapping[str, Any]]  # prompt id -> its metrics
FIGURES = {  # metric -> how the report names it
    "consistency": "consistency",
    "tie_rate": "tie rate",
    "accuracy": "accuracy (per sample)",
    "maj_accuracy": "majority-vote accuracy",
    "pass_at_n": "pass@n",
}
# vote share (the majority's share of the n samples, i.e. consistency) -> how often that majority is right
SHARE_BINS = ((0.0, 0.5, "< 0.5"), (0.5, 0.75, "0.5 to < 0.75"), (0.75, 1.01, ">= 0.75"))
GOAL = ("consistency up (paired 95% interval above zero) and accuracy not down "
        "(paired 95% lower bound above -0.05)")
ACCURACY_FLOOR = -0.05


def _values(stage: PerPrompt, metric: str) -> dict[str, float]:
    return {pid: float(m[metric]) for pid, m in stage.items() if m.get(metric) is not None}


def compare(before: Sequence[PerPrompt], after: Sequence[PerPrompt], *, seed: int = 0) -> dict[str, Any]:
    """Per replicate and pooled, for each metric: before, after and the paired difference, each
    ``{value, low, high}``; the vote-share bins; and whether the goal was met."""
    if len(before) != len(after):
        raise ValueError(f"{len(before)} replicates measured before, {len(after)} after")
    scopes = [(f"rep-{i}", [i]) for i in range(len(before))] + [("pooled", list(range(len(before))))]
    figures: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for scope, members in scopes:
        figures[scope] = {}
        for metric in FIGURES:
            b = [_values(before[i], metric) for i in members]
            a = [_values(after[i], metric) for i in members]
            if not any(b) and not any(a):
                continue
            figures[scope][metric] = {
                "before": pooled_figure([list(v.values()) for v in b], seed=seed),
                "after": pooled_figure([list(v.values()) for v in a], seed=seed),
                "diff": pooled_figure([paired_values(x, y) for x, y in zip(a, b)], seed=seed),
            }
    pooled = figures["pooled"]
    goal = goal_met(pooled)
    return {"replicates": len(before), "prompts": [len(stage) for stage in before], "figures": figures,
            "vote_share": {"before": vote_share(before, seed=seed), "after": vote_share(after, seed=seed)},
            "goal": goal}


def goal_met(pooled: Mapping[str, Mapping[str, Mapping[str, float]]]) -> dict[str, Any]:
    """The issue's goal, judged on the pooled paired differences."""
    consistency = pooled.get("consistency", {}).get("diff")
    accuracy = pooled.get("accuracy", {}).get("diff")
    up = consistency is not None and consistency["low"] > 0
    kept = accuracy is not None and accuracy["low"] > ACCURACY_FLOOR
    return {"met": up and kept, "consistency_up": up, "accuracy_not_down": kept,
            "consistency_diff": consistency, "accuracy_diff": accuracy}


def vote_share(stage: Sequence[PerPrompt], *, seed: int = 0) -> dict[str, Any]:
    """Whether a large majority is more often right: majority-vote accuracy per vote-share bin (with its
    interval), and the correlation over prompts between consistency and the majority being right."""
    bins = []
    for low, high, label in SHARE_BINS:
        groups = [[float(m["maj_accuracy"]) for m in rep.values()
                   if m.get("maj_accuracy") is not None and low <= float(m["consistency"]) < high] for rep in stage]
        bins.append({"share": label, "prompts": sum(map(len, groups)), **pooled_figure(groups, seed=seed)})
    pairs = np.array([(float(m["consistency"]), float(m["maj_accuracy"])) for rep in stage for m in rep.values()
                      if m.get("maj_accuracy") is not None] or np.zeros((0, 2)))
    correlation = None
    if len(pairs) > 2 and pairs[:, 0].std() > 0 and pairs[:, 1].std() > 0:
        correlation = round(float(np.corrcoef(pairs[:, 0], pairs[:, 1])[0, 1]), 3)
    return {"bins": bins, "correlation": correlation}


def flat_metrics(result: Mapping[str, Any], prefix: str) -> dict[str, float]:
    """``{prefix}.{scope}.{metric}.{before|after|diff}[.low|.high]``: the figures as manifest metrics."""
    flat: dict[str, float] = {}
    for scope, metrics in result["figures"].items():
        for metric, stages in metrics.items():
            for when, figure in stages.items():
                key = f"{prefix}.{scope}.{metric}.{when}"
                flat[key], flat[f"{key}.low"], flat[f"{key}.high"] = figure["value"], figure["low"], figure["high"]
    flat[f"{prefix}.goal_met"] = float(result["goal"]["met"])
    return flat


def _cell(figure: Mapping[str, float] | None, signed: bool = False) -> str:
    if figure is None:
        return "—"
    form = "+.3f" if signed else ".3f"
    return f"{figure['value']:{form}} [{figure['low']:{form}}, {figure['high']:{form}}]"


def markdown(result: Mapping[str, Any], dataset: str) -> str:
    """The table (each metric per replicate and pooled), the vote-share bins and the goal line."""
    lines = [f"### {dataset}: {result['replicates']} replicate(s), "
             f"{' + '.join(map(str, result['prompts']))} held-out prompts",
             "",
             "| metric | scope | before | after | after − before (paired) |",
             "| --- | --- | --- | --- | --- |"]
    for metric, name in FIGURES.items():
        for scope, metrics in result["figures"].items():
            if metric in metrics:
                f = metrics[metric]
                lines.append(f"| {name} | {scope} | {_cell(f['before'])} | {_cell(f['after'])} | {_cell(f['diff'], True)} |")
    lines += ["", "Does vote share track accuracy? Majority-vote accuracy by the majority's share of the n samples "
              "(pooled; prompts in the bin, accuracy [95% interval]):", "",
              "| vote share | before | after |", "| --- | --- | --- |"]
    shares = result["vote_share"]
    for b, a in zip(shares["before"]["bins"], shares["after"]["bins"]):
        lines.append(f"| {b['share']} | {b['prompts']}: {_cell(b) if b['prompts'] else '—'} "
                     f"| {a['prompts']}: {_cell(a) if a['prompts'] else '—'} |")
    lines.append(f"| correlation (consistency, majority right) | {_fmt(shares['before']['correlation'])} "
                 f"| {_fmt(shares['after']['correlation'])} |")
    lines += ["", goal_line(result["goal"], dataset)]
    return "\n".join(lines)


def goal_line(goal: Mapping[str, Any], dataset: str) -> str:
    verdict = "MET" if goal["met"] else "NOT MET"
    return (f"**Goal ({GOAL}) on {dataset}: {verdict}.** Consistency after − before "
            f"{_cell(goal['consistency_diff'], True)} ({excludes_zero(goal['consistency_diff']) if goal['consistency_diff'] else 'not measured'}); "
            f"accuracy after − before {_cell(goal['accuracy_diff'], True)} "
            f"({'lower bound above' if goal['accuracy_not_down'] else 'lower bound not above'} {ACCURACY_FLOOR:+.2f}).")


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:+.3f}"


def stage_means(summaries: Sequence[Mapping[str, Any]], metrics: Iterable[str]) -> dict[str, float | None]:
    """Each metric over every prompt of the replicates' summaries (weighted by their prompts)."""
    means: dict[str, float | None] = {}
    for metric in metrics:
        pairs = [(s["metrics"][metric], s["prompts"]) for s in summaries if s["metrics"].get(metric) is not None]
        weight = sum(w for _, w in pairs)
        means[metric] = sum(v * w for v, w in pairs) / weight if weight else None
    return means


def stage_records(groups: Iterable[Iterable[Any]]) -> list[dict[str, dict[str, Any]]]:
    """Per replicate, ``{prompt id: metrics}`` from its Sample records."""
    return [{s.id: s.metrics for s in records} for records in groups]
