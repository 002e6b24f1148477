"""Runs side by side: the config fields that differ, provenance, headline metrics and paired differences.

Metrics carry their 95% interval. A run's own figures come first (its manifest's ``metrics``, or
what its summary holds); where the run keeps per-task or per-prompt values (an evaluation's
``summary.json`` tasks, a collection's ``attempts.jsonl``, a consistency run's ``samples.jsonl``)
each figure gets its percentile-bootstrap interval over them, and two runs that saw the same
tasks or prompts get paired differences: B − A on the shared ones, resampled together
(``arcray.arc.scoring.figure``, seeded, so the same runs always give the same intervals).
"""

from __future__ import annotations

import json
from typing import Any

from arcray.arc.scoring import figure
from arcray.compare.runs import Run, open_run, stage_folders
from arcray.errors import ArcrayError

ROOT = "RUN"  # what a run's own folder reads as in its compared config
EVALUATE_FIELDS = ("solved", "solved_first", "train_fit", "runnable", "sized")  # arcray.arc.scoring.TaskScore
# A collection's per-task values, by the name its manifest gives the mean (``solved_share``).
COLLECT_FIELDS = {"solved_share": "solved", "train_fit": "train_fit", "fitness": "fitness"}
CORE_PROVENANCE = ("arcray", "git", "python", "platform", "cpu", "cpu_count", "memory_gib", "gpus", "ray", "host")


def compare_runs(locations: list[str]) -> dict[str, Any]:
    """The comparison of the runs at ``locations`` (the first is A, the baseline of every B − A), as JSON-able data."""
    if len(locations) < 2:
        raise ArcrayError(f"compare needs two runs or more, got {len(locations)}: pass RUN_A RUN_B [RUN_C …]")
    runs = [open_run(location) for location in locations]
    labels = [_label(i) for i in range(len(runs))]
    stages = {run.stage for run in runs}
    if len(stages) > 1:
        kinds = ", ".join(f"{label}: {run.stage}" for label, run in zip(labels, runs))
        raise ArcrayError(f"runs of different stages cannot be compared ({kinds}): pass runs of one stage")
    result = {"labels": labels, **section("", runs, labels, provenance_in_full=True), "stages": [], "unmatched": {}}
    if runs[0].stage == "experiment":
        folders = [stage_folders(run.path) for run in runs]
        names = sorted(set().union(*folders))
        for name in names:
            holders = [i for i, found in enumerate(folders) if name in found]
            if len(holders) < len(runs):
                result["unmatched"][name] = [labels[i] for i in holders]
                continue
            children = [open_run(str(found[name]), parent=parent) for found, parent in zip(folders, runs)]
            if len({child.stage for child in children}) > 1:
                result["unmatched"][name] = [f"{label} ({child.stage})" for label, child in zip(labels, children)]
                continue
            result["stages"].append(section(name, children, labels, provenance_in_full=False))
    return result


def section(name: str, runs: list[Run], labels: list[str], *, provenance_in_full: bool) -> dict[str, Any]:
    """One stage's comparison: runs, config differences, provenance, metrics, paired differences."""
    units = [per_unit(run) for run in runs]
    return {
        "name": name,
        "stage": runs[0].stage,
        "runs": [{"label": label, "location": str(run.path), "stage": run.stage, "status": run.status,
                  "started_at": run.started_at, "wall_s": run.wall_s} for label, run in zip(labels, runs)],
        "config": config_differences(runs),
        "provenance": provenance_table(runs, full=provenance_in_full),
        "metrics": metrics_table([headline(run, unit) for run, unit in zip(runs, units)]),
        "paired": paired_differences(units, labels),
    }


def _label(index: int) -> str:
    return chr(ord("A") + index) if index < 26 else f"R{index + 1}"


# -- config ------------------------------------------------------------------------------------
def config_differences(runs: list[Run]) -> dict[str, Any]:
    """Dotted keys whose values differ ({key: [value per run]}, None where a run lacks it), and how many agree.

    Runs with manifests compare their manifests' configs; where one has none (made before
    manifests), every run's config file is compared instead, so that like meets like.
    """
    mixed = not all(run.manifest for run in runs) and all(run.written_config is not None for run in runs)
    configs = [run.written_config if mixed else run_config(run) for run in runs]
    flat = [flatten(_relative(config, run.roots)) for config, run in zip(configs, runs)]
    keys = sorted(set().union(*flat))
    differ = {key: [values.get(key) for values in flat] for key in keys
              if len({json.dumps(values.get(key), sort_keys=True, default=str) for values in flat}) > 1}
    # A field outside every manifest's identity says how a run was computed (actors, cache), not what.
    identities = [] if mixed else [set(flatten(run.manifest.identity)) for run in runs if run.manifest]
    operational = [key for key in differ if len(identities) == len(runs) and key.split(".")[0] in runs[0].config
                   and not any(key in identity for identity in identities)]
    return {"differ": differ, "identical": len(keys) - len(differ), "operational": operational}


def run_config(run: Run) -> dict[str, Any]:
    """What makes the run what it is: its config, and from its manifest its seeds and the inputs it read."""
    config: dict[str, Any] = dict(run.config)
    if run.manifest is not None:
        if run.manifest.seeds:
            config["seeds"] = dict(run.manifest.seeds)
        if run.manifest.inputs:
            config["inputs"] = {ref.location: (ref.outputs_sha256 or "")[:12] or None for ref in run.manifest.inputs}
    return config


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"train": {"lora_r": 16}}`` → ``{"train.lora_r": 16}``; lists stay whole values."""
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value} if prefix else {}


def _relative(value: Any, roots: list[str]) -> Any:
    """``value`` with the run's own folder written ``RUN``: where a run lives is not how it differs."""
    if isinstance(value, str):
        for root in roots:
            if value == root or value.startswith(root + "/"):
                return ROOT + value[len(root):]
        return value
    if isinstance(value, dict):
        return {(_relative(k, roots) if isinstance(k, str) else k): _relative(v, roots) for k, v in value.items()}
    if isinstance(value, list):
        return [_relative(v, roots) for v in value]
    return value


# -- provenance --------------------------------------------------------------------------------
def provenance_table(runs: list[Run], *, full: bool) -> dict[str, Any]:
    """Provenance fields per run (None for a run without a manifest) and which differ between the runs that have one.

    ``full``: every core field and the packages that differ; otherwise only the fields that differ.
    """
    rows = [_provenance_fields(run) for run in runs]
    known = [row for row in rows if row is not None]
    keys = list(CORE_PROVENANCE) + sorted({k for row in known for k in row if k not in CORE_PROVENANCE})
    differ = [key for key in keys if len({json.dumps(row.get(key)) for row in known}) > 1]
    shown = [key for key in keys if key in differ or (full and key in CORE_PROVENANCE)]
    return {"fields": {key: [row.get(key) if row is not None else None for row in rows] for key in shown},
            "differ": differ, "identical": len(keys) - len(differ) if known else 0,
            "manifest": [row is not None for row in rows]}


def _provenance_fields(run: Run) -> dict[str, Any] | None:
    if run.manifest is None:
        return None
    p = run.manifest.provenance
    git = None if p.git_sha is None else p.git_sha[:10] + ("+dirty" if p.git_dirty else "")
    fields = {"arcray": p.arcray, "git": git, "python": p.python, "platform": p.platform, "cpu": p.cpu,
              "cpu_count": p.cpu_count, "memory_gib": p.memory_gib, "gpus": ", ".join(p.gpus) or "none", "ray": p.ray,
              "host": p.host}
    fields.update({f"packages.{name}": version for name, version in p.packages.items()})
    return fields


# -- metrics -----------------------------------------------------------------------------------
def per_unit(run: Run) -> dict[str, Any]:
    """{"unit": "tasks"|"prompts", "values": {metric: {unit id: value}}} from what the run keeps; {} when nothing."""
    if run.stage == "evaluate" and isinstance(run.summary.get("tasks"), list):
        rows = [t for t in run.summary["tasks"] if isinstance(t, dict) and "task_id" in t]
        return {"unit": "tasks", "values": {f: {str(t["task_id"]): float(t[f]) for t in rows if t.get(f) is not None}
                                            for f in EVALUATE_FIELDS}}
    if run.stage == "collect" and (run.path / "attempts.jsonl").is_file():
        from arcray.arc.attempt import ATTEMPTS, attempts_from_json, latest
        from arcray.runtime.rundir import RunDir

        records = latest(attempts_from_json(RunDir(run.path).read_records(ATTEMPTS), where=str(run.path / ATTEMPTS)))
        return {"unit": "tasks", "values": {name: {k: float(getattr(r, f)) for k, r in records.items()}
                                            for name, f in COLLECT_FIELDS.items()}}
    if run.stage in ("measure", "generate") and (run.path / "samples.jsonl").is_file():
        from arcray.consistency.records import SAMPLES, samples_from_json
        from arcray.runtime.rundir import RunDir

        samples = samples_from_json(RunDir(run.path).read_records(SAMPLES), where=str(run.path / SAMPLES))
        values: dict[str, dict[str, float]] = {}
        for sample in samples:
            for metric, value in sample.metrics.items():
                if value is not None:
                    values.setdefault(metric, {})[sample.id] = float(value)
        return {"unit": "prompts", "values": values}
    return {}


def headline(run: Run, units: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """The run's headline figures, each ``{value, low, high}`` (low/high None for a bare number)."""
    derived: dict[str, dict[str, float | None]] = {}
    for metric, by_unit in (units.get("values") or {}).items():
        if by_unit:
            derived[metric] = figure(list(by_unit.values()))
    derived.update({k: v for k, v in _summary_numbers(run).items() if k not in derived})
    if run.manifest is None or not run.manifest.metrics:
        return derived
    # The manifest names the stage's headline figures; a bare number there takes the interval the
    # run's per-task or per-prompt values give it, when they are the same figure (same mean).
    figures = {}
    for name, value in run.manifest.metrics.items():
        given = _as_figure(value)
        if given is None:
            continue
        richer = derived.get(name)
        same = richer is not None and richer.get("low") is not None and abs(richer["value"] - given["value"]) < 1e-3
        figures[name] = richer if given["low"] is None and same else given
    return figures


def _summary_numbers(run: Run) -> dict[str, dict[str, float | None]]:
    """Headline numbers of stages that keep no per-unit values (training, preparing, generating)."""
    s, picked = run.summary, {}
    if run.stage == "train":
        picked = {"best_eval_loss": (s.get("best") or {}).get("eval_loss"),
                  "final_train_loss": (s.get("final") or {}).get("train_loss"),
                  "final_eval_loss": (s.get("final") or {}).get("eval_loss")}
    elif run.stage == "prepare":
        picked = {k: s.get(k) for k in ("train", "validation", "train_tokens")}
    elif run.stage == "generate":
        picked = {k: s.get(k) for k in ("records", "prompts")}
    return {k: f for k, v in picked.items() if (f := _as_figure(v)) is not None}


def _as_figure(value: Any) -> dict[str, float | None] | None:
    """A manifest or summary metric as ``{value, low, high}``; None when it is no number."""
    if isinstance(value, bool):
        value = float(value)
    if isinstance(value, (int, float)):
        return {"value": float(value), "low": None, "high": None}
    if isinstance(value, dict) and isinstance(value.get("value"), (int, float)):
        low, high = value.get("low"), value.get("high")
        return {"value": float(value["value"]), "low": float(low) if isinstance(low, (int, float)) else None,
                "high": float(high) if isinstance(high, (int, float)) else None}
    return None


def metrics_table(per_run: list[dict[str, dict[str, float | None]]]) -> dict[str, list[dict[str, float | None] | None]]:
    """{metric: [figure or None per run]}, metrics in the order the runs first name them."""
    names = list(dict.fromkeys(name for figures in per_run for name in figures))
    return {name: [figures.get(name) for figures in per_run] for name in names}


def paired_differences(units: list[dict[str, Any]], labels: list[str]) -> dict[str, list[dict[str, Any]]]:
    """{metric: [B − A, C − A, …]}, each on the tasks or prompts both runs measured, with its paired interval."""
    base = units[0].get("values") or {}
    paired: dict[str, list[dict[str, Any]]] = {}
    for metric, before in base.items():
        rows = []
        for label, unit in zip(labels[1:], units[1:]):
            after = (unit.get("values") or {}).get(metric)
            if after is None:
                continue
            shared = sorted(set(before) & set(after))
            # One bootstrap over the shared ids' differences: both runs resampled together (seeded).
            difference = figure([after[i] - before[i] for i in shared]) if shared else None
            rows.append({"run": label, "against": labels[0], "shared": len(shared), "unit": units[0]["unit"],
                         **(difference or {"value": None, "low": None, "high": None})})
        if rows:
            paired[metric] = rows
    return paired
