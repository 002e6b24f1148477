"""Self-consistency distillation (plan 002, phase 1B.1), end to end, with its report.

[optional warm start: LoRA on worked reference solutions, merged: the plan's phase 1A model] →
baseline consistency on held-out prompts → generate answers at the category temperatures →
prepare → train (LoRA / QLoRA on Ray Train) → consistency after, on the same held-out prompts
→ the plan's gates, pass/fail → report.md with the before/after table, training curves, plots.

    python experiments/self_consistency.py --config experiments/configs/self_consistency.yaml [--smoke-test]
    ray job submit --working-dir . -- python experiments/self_consistency.py --config experiments/configs/self_consistency.yaml

Each step writes its own folder under ``out`` and resumes when re-run.

``replicates: K`` measures K disjoint ranges of held-out prompts (replicate r takes the range after
replicate r-1's, and samples with seed r), before and after one shared training run; report.md gives
every figure per replicate and pooled, with 95% intervals (arcray.consistency.replicates).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict

from arcray.consistency.records import FAILURES, SAMPLES, samples_from_json
from arcray.consistency import DatasetSpec, load_problems
from arcray.consistency.reference import reference_records
from arcray.consistency.gates import evaluate_gates, format_gates, scoreboard
from arcray.consistency import replicates as reps
from arcray.errors import ConfigError
from arcray.experiment import EXPERIMENT_CONFIG, Finished, load_experiment_config, replicate_count, run_script, section
from arcray.llm.types import DEFAULT_TEMPERATURE
from arcray.runtime.rundir import RunDir
from arcray.runtime.stage import StageRun, completed
from arcray.tracking import TrackingConfig, resolve_uri
from arcray.pipelines.sampling import ConsistencyConfig, GenerateConfig, run_consistency, run_sc_generate
from arcray.report import bar_plot, image, markdown_table, training_section, write_report
from arcray.training.prepare import PrepareConfig, run_prepare
from arcray.validation import build_config

KEYS = ("out", "student", "warmup", "replicates", "measure", "generate", "sampling", "train", "tracking")
SMOKE = {  # every stage runs, on as little as still says something: it is CI's end-to-end run of the experiment
    "measure": {"code": None, "n": 3, "max_new_tokens": 64},
    "generate": {"code": None, "max_new_tokens": 64},
    "train": {"epochs": 1, "grad_accum": 1, "load_in_4bit": False},
}
SMOKE_LIMITS = {"measure": 2, "generate": 4}  # prompts per replicate / in all, of the configured math dataset
SMOKE_WARMUP = {"data": {"limit": 8}, "train": {"epochs": 1}}
METRICS = ("consistency", "distinct_responses", "tie_rate", "accuracy", "maj_accuracy", "pass_at_n")
CATEGORIES = ("math", "code")
MAX_REPLICATES = 100


class Measure(BaseModel):
    """The ``measure`` section: held-out prompts per category, sampled n times at one temperature."""

    model_config = ConfigDict(extra="forbid")

    math: dict[str, Any] | None = None
    code: dict[str, Any] | None = None
    n: int = 10
    temperature: float = DEFAULT_TEMPERATURE
    max_new_tokens: int = 384


class Failures(BaseModel):
    """``generate.failures``: phase 1B.2. The training prompts are measured first (n samples at T); only
    the failures (wrong majority, or consistency below the threshold) are answered, ``samples_per_prompt``
    times at the category's generate temperature."""

    model_config = ConfigDict(extra="forbid")

    n: int = 8
    temperature: float = DEFAULT_TEMPERATURE
    samples_per_prompt: int = 5
    majority_only: bool = True
    correct_only: bool = False


class Generate(BaseModel):
    """The ``generate`` section: training prompts per category, answered at the plan's temperatures."""

    model_config = ConfigDict(extra="forbid")

    math: dict[str, Any] | None = None
    code: dict[str, Any] | None = None
    max_new_tokens: int = 384
    failures: Failures | None = None


class Warmup(BaseModel):
    """The ``warmup`` section: reference solutions to LoRA-tune on first (the plan's phase 1A)."""

    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any]
    train: dict[str, Any] = {}


def replicates(config: dict[str, Any]) -> int:
    """How many disjoint ranges of held-out prompts are measured (``replicates``), checked."""
    return replicate_count(config, maximum=MAX_REPLICATES, what="ranges of held-out prompts to measure")


def measure_configs(config: dict[str, Any], out: Path, student: dict[str, Any], label: str) -> dict[str, list[ConsistencyConfig]]:
    """Per category, one run per replicate: replicate r takes the r-th range of ``limit`` held-out prompts
    after ``offset`` and samples with seed r."""
    settings = build_config(Measure, "measure", **section(config, "measure"))
    k = replicates(config)
    runs = {}
    for category in CATEGORIES:
        dataset = getattr(settings, category)
        if not dataset:
            continue
        if k > 1 and not dataset.get("limit"):
            raise ConfigError(f"measure.{category}: {k} replicates take disjoint ranges of prompts; give it a limit "
                              "(prompts per replicate)")
        runs[category] = [ConsistencyConfig.build(
            student=student, dataset={**dataset, "offset": dataset.get("offset", 0) + r * (dataset.get("limit") or 0)},
            n=settings.n, temperature=settings.temperature, max_new_tokens=settings.max_new_tokens, seed=r,
            out=out / label / f"rep-{r}" / category, tracking=tracking_config(config, out), **section(config, "sampling"))
            for r in range(k)]
    return runs


def generate_configs(config: dict[str, Any], out: Path, student: dict[str, Any]) -> dict[str, GenerateConfig]:
    """Per category, the sc-generate run; with ``failures`` (phase 1B.2) it answers the failures of
    :func:`failure_configs`' runs only."""
    settings = build_config(Generate, "generate", **section(config, "generate"))
    failures = settings.failures
    runs = {}
    for category in CATEGORIES:
        dataset = getattr(settings, category)
        if not dataset:
            continue
        selection = {}
        if failures:
            dataset = {"source": f"run:{out / 'failures' / category / FAILURES}"}
            selection = failures.model_dump(include={"samples_per_prompt", "majority_only", "correct_only"})
        runs[category] = GenerateConfig.build(
            student=student, dataset=dataset, max_new_tokens=settings.max_new_tokens, out=out / "generate" / category,
            tracking=tracking_config(config, out), **selection, **section(config, "sampling"))
    return runs


def failure_configs(config: dict[str, Any], out: Path, student: dict[str, Any]) -> dict[str, ConsistencyConfig]:
    """Phase 1B.2's first step: the training prompts measured, for their failures.jsonl ({} without ``failures``)."""
    settings = build_config(Generate, "generate", **section(config, "generate"))
    if not settings.failures:
        return {}
    return {category: ConsistencyConfig.build(
        student=student, dataset=getattr(settings, category), n=settings.failures.n,
        temperature=settings.failures.temperature, max_new_tokens=settings.max_new_tokens, out=out / "failures" / category,
        tracking=tracking_config(config, out), **section(config, "sampling"))
        for category in CATEGORIES if getattr(settings, category)}


def tracking_config(config: dict[str, Any], out: Path) -> TrackingConfig:
    """One tracking store for the whole experiment (``out``'s unless the config or MLFLOW_TRACKING_URI names one)."""
    tracking = build_config(TrackingConfig, "tracking", **section(config, "tracking"))
    return tracking.model_copy(update={"uri": resolve_uri(tracking, out)})


def resolve(config: dict[str, Any], out: Path) -> dict[str, Any]:
    """Every section checked as its stage's typed config before the first stage runs (the warm
    start's model stands in for the one it will merge); the resolved whole for the run directory."""
    from arcray.training.config import TrainConfig

    student = section(config, "student")
    resolved: dict[str, Any] = {"out": str(out), "student": student}
    if config.get("warmup"):
        warmup = build_config(Warmup, "warmup", **section(config, "warmup"))
        resolved["warmup"] = {
            "data": build_config(DatasetSpec, "warmup.data", **warmup.data).model_dump(mode="json"),
            "train": TrainConfig.build(data=out / "warmup" / "data", model=student.get("model", ""), out=out / "warmup" / "train",
                                       data_later=True, **{**warmup.train, "merge": True}).model_dump(mode="json"),
        }
    resolved["replicates"] = replicates(config)
    resolved["measure"] = {c: [m.model_dump(mode="json") for m in runs]
                           for c, runs in measure_configs(config, out, student, "before").items()}
    resolved["failures"] = {c: f.model_dump(mode="json") for c, f in failure_configs(config, out, student).items()}
    resolved["generate"] = {c: g.model_dump(mode="json") for c, g in generate_configs(config, out, student).items()}
    if not resolved["generate"]:
        raise ConfigError("generate: no category to generate answers for; give generate.math or generate.code")
    resolved["train"] = TrainConfig.build(data=out / "data", model=student.get("model", ""), out=out / "train", data_later=True,
                                          **{**section(config, "train"), "merge": False}).model_dump(mode="json")
    return resolved


def warm_start(config: dict[str, Any], out: Path) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The student phase 1B starts from: the configured one, or that model after LoRA on reference
    solutions, merged into a full model (the plan's phase 1A checkpoint); and the warm-up's summary."""
    settings = config.get("warmup")
    if not settings:
        return config["student"], None
    folder = out / "warmup"

    def reference() -> list[Path]:
        records = reference_records(load_problems(DatasetSpec(**settings["data"])))
        path = RunDir(folder).file("reference.jsonl")
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        return [path]

    trained = train_once(folder, reference, config["student"]["model"], {**settings["train"], "merge": True},
                         label="warm start", what="reference solutions, merged", tracking=tracking_config(config, out))
    return {**config["student"], "model": trained["merged"]}, trained


def measure(config: dict[str, Any], out: Path, student: dict[str, Any], label: str) -> dict[str, list[dict[str, Any]]]:
    """Per category, each replicate's summary."""
    summaries: dict[str, list[dict[str, Any]]] = {}
    for category, runs in measure_configs(config, out, student, label).items():
        for r, settings in enumerate(runs):
            print(f"[{label}] consistency on held-out {dataset_name(settings.dataset.source)} (replicate {r}): "
                  f"n={settings.n} at T={settings.temperature}", flush=True)
            summaries.setdefault(category, []).append({**run_consistency(settings), "out": str(settings.out)})
    return summaries


def dataset_name(source: str) -> str:
    """What a report calls a dataset: the source's name (arith-1step, humaneval, gsm8k), or a file's stem."""
    name, sep, rest = source.partition(":")
    return name if sep or "/" not in source and "." not in source else Path(source).stem


def compare(stages: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, dict[str, Any]]:
    """Per category: before against after, per replicate and pooled (arcray.consistency.replicates)."""
    return {category: reps.compare([_metrics(s["out"]) for s in stages["before"][category]],
                                   [_metrics(s["out"]) for s in stages["after"][category]], seed=0)
            for category in stages["before"]}


def _metrics(folder: str) -> dict[str, dict[str, Any]]:
    run = RunDir(Path(folder))
    return reps.stage_records([samples_from_json(run.read_records(SAMPLES), where=str(run.file(SAMPLES)))])[0]


def generate(config: dict[str, Any], out: Path, student: dict[str, Any]) -> list[Path]:
    files = []
    for category, settings in failure_configs(config, out, student).items():
        print(f"[failures] {category.upper()} training prompts: n={settings.n} at T={settings.temperature}, "
              "for their failures (phase 1B.2)", flush=True)
        run_consistency(settings)
    for category, settings in generate_configs(config, out, student).items():
        print(f"[generate] {category.upper()} answers at the plan's generate temperature", flush=True)
        run_sc_generate(settings)
        files.append(settings.out / "sc.jsonl")
    return files


def train(config: dict[str, Any], out: Path, student: dict[str, Any], sources: list[Path]) -> dict[str, Any]:
    return train_once(out, lambda: sources, student["model"], {**section(config, "train"), "merge": False},
                      label="train", what="self-consistency data", tracking=tracking_config(config, out))


def train_once(folder: Path, sources: Callable[[], list[Path]], model: str, fields: dict[str, Any], *,
               label: str, what: str, tracking: TrackingConfig) -> dict[str, Any]:
    """Prepare ``sources()`` into folder/data and train on it into folder/train; a finished run with the same
    settings is reused (other settings: one line)."""
    from arcray.training.config import TrainConfig
    from arcray.training.train import TRAIN_OPERATIONAL, run_training

    summary_path = folder / "train" / "summary.json"
    settings = TrainConfig.build(data=folder / "data", model=model, out=folder / "train", data_later=True,
                                 **{"tracking": tracking, **fields})
    if completed(folder / "train", "train", config=settings.model_dump(mode="json"), operational=TRAIN_OPERATIONAL):
        print(f"[{label}] already done", flush=True)
        return json.loads(summary_path.read_text())
    run_prepare(PrepareConfig(sources=sources(), out=folder / "data", val_fraction=0.1, seed=0, tracking=tracking))
    print(f"[{label}] LoRA on {model} with {what} (Ray Train)", flush=True)
    return run_training(TrainConfig.build(**settings.model_dump()))


def report(out: Path, stages: dict[str, dict], trainings: dict[str, dict], gates_before: str, gates_after: str,
           comparison: dict[str, dict[str, Any]] | None = None) -> Path:
    """report.md: the goal, before against after with intervals (per replicate and pooled), every measured
    stage (base, before, after) per dataset and replicate, the training runs, the gates."""
    rows = []
    categories = list(stages["before"])
    at = measured_at(stages)
    names = {c: dataset_name(stages["before"][c][0]["dataset"]) for c in categories}
    for category in categories:
        for when, summaries in stages.items():
            for r, summary in enumerate(summaries[category]):
                m = summary["metrics"]
                rows.append({"dataset": names[category], "replicate": r, "when": when, **{k: m.get(k) for k in METRICS},
                             "prompts": summary["prompts"]})
    charts = []
    shown = ("consistency", "tie_rate", "accuracy")
    for category in categories:
        pooled = {when: reps.stage_means(s[category], shown) for when, s in stages.items()}
        chart = bar_plot(out / f"{category}_before_after.png", list(shown),
                         {when: [v.get(k) or 0.0 for k in shown] for when, v in pooled.items()},
                         title=f"{names[category]}: held-out prompts at {at}", ylabel="share",
                         reference={"consistency": 0.40} if category == "math" else None)
        charts.append(image(chart, out, f"{names[category]} before and after"))
    legend = ("base: the configured student; before: the model phase 1B starts from (after the warm start); "
              "after: that model with the self-consistency adapter." if "base" in stages else "")
    intervals = [reps.markdown(comparison[c], names[c]) for c in categories if comparison and c in comparison]
    sections = [
        *([f"## Goal, and before against after with 95% intervals (n samples at {at})\n"
           "Each interval is a bootstrap over prompts (pooled: over replicates, then prompts); a difference is "
           "after minus before on the same prompt. A replicate is another range of held-out prompts sampled with "
           "its own seed; the trained adapter is shared.\n\n" + "\n\n".join(intervals)] if intervals else []),
        f"## Every measured run (held-out prompts, n samples at {at})\n" + legend + "\n\n" + markdown_table(rows),
        "\n\n".join(charts),
        *(training_section(out, trained, title, plot=f"{name}_loss.png") for name, (title, trained) in trainings.items()),
        "## Gates before\n```\n" + gates_before + "\n```",
        "## Gates after\n```\n" + gates_after + "\n```",
    ]
    phase = "1B.2" if (out / "failures").is_dir() else "1B.1"
    return write_report(out, f"Self-consistency distillation (phase {phase})", sections)


def measured_at(stages: dict[str, dict]) -> str:
    """The temperature the measured runs were sampled at, as their summaries record it: "T=0.5" ("T=0.5/0.7" if they differ)."""
    used = sorted({s["temperature"] for summaries in stages.values() for runs in summaries.values() for s in runs})
    return "T=" + "/".join(f"{t:g}" for t in used)


def run(args: argparse.Namespace) -> Finished:
    config = load_experiment_config(args.config, KEYS, SMOKE if args.smoke_test else None, getattr(args, "overrides", ()))
    if args.smoke_test:
        for name, limit in SMOKE_LIMITS.items():
            if config[name].get("math"):
                config[name]["math"] = {**config[name]["math"], "limit": min(config[name]["math"].get("limit") or limit, limit)}
    if args.smoke_test and config.get("warmup"):
        config["warmup"] = {k: {**config["warmup"].get(k, {}), **v} for k, v in SMOKE_WARMUP.items()}
    out = Path(args.out or config["out"])
    resolved = resolve(config, out)  # every section, before anything runs or is written
    with StageRun(out, "experiment", config=resolved, operational=("tracking",)) as experiment:
        RunDir(out).write_config(resolved, name=EXPERIMENT_CONFIG)
        stages, trainings = {}, {}
        student, warmed = warm_start(config, out)
        if warmed:
            stages["base"] = measure(config, out, config["student"], "base")
            trainings["warmup"] = ("Warm start: LoRA on reference solutions (merged)", warmed)
        stages["before"] = measure(config, out, student, "before")
        trained = train(config, out, student, generate(config, out, student))
        trainings["train"] = ("Phase 1B.1: LoRA on self-consistency data", trained)
        stages["after"] = measure(config, out, {**student, "adapter": trained["adapter"]}, "after")
        names = {c: dataset_name(runs[0]["dataset"]) for c, runs in stages["before"].items()}
        gates_before = format_gates(evaluate_gates(_board(stages["before"])), measured=names)
        gates_after = format_gates(evaluate_gates(_board(stages["after"])), measured=names)
        print("gates after training:\n" + gates_after, flush=True)
        comparison = compare(stages)
        for category, result in comparison.items():
            print(reps.goal_line(result["goal"], names[category]), flush=True)
        path = report(out, stages, trainings, gates_before, gates_after, comparison)
        metrics = {f"{when}.{category}.rep-{r}.{k}": v for when, summaries in stages.items()
                   for category, runs in summaries.items() for r, summary in enumerate(runs)
                   for k, v in summary["metrics"].items() if isinstance(v, (int, float))}
        for category, result in comparison.items():
            metrics.update(reps.flat_metrics(result, names[category]))
        experiment.finish(metrics=metrics, outputs=["report.md"])
    return Finished(f"report: {path}")


def main(argv: list[str] | None = None) -> int:
    return run_script(argv, name="self_consistency", doc=__doc__, run=run,
                      config=Path("experiments/configs/self_consistency.yaml"), smoke_test="a few prompts, one epoch: minutes")


def _board(stage: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Every prompt of every replicate of one stage, pooled, for the gates."""
    return scoreboard((category, m) for category, runs in stage.items() for summary in runs
                      for m in _metrics(summary["out"]).values())


if __name__ == "__main__":
    sys.exit(main())
