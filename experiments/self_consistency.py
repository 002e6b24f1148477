"""Self-consistency distillation (plan 002, phase 1B.1), end to end, with its report.

[optional warm start: LoRA on worked reference solutions, merged: the plan's phase 1A model] →
baseline consistency on held-out prompts → generate answers at the category temperatures →
prepare → train (LoRA / QLoRA on Ray Train) → consistency after, on the same held-out prompts
→ the plan's gates, pass/fail → report.md with the before/after table, training curves, plots.

    python experiments/self_consistency.py --config experiments/configs/self_consistency.yaml [--smoke-test]
    ray job submit --working-dir . -- python experiments/self_consistency.py --config experiments/configs/self_consistency.yaml

Each step writes its own folder under ``out`` and resumes when re-run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict

from arcray.consistency.records import SAMPLES, samples_from_json
from arcray.consistency import DatasetSpec, load_problems
from arcray.consistency.reference import reference_records
from arcray.consistency.gates import evaluate_gates, format_gates, scoreboard
from arcray.errors import ConfigError
from arcray.experiment import EXPERIMENT_CONFIG, Finished, load_experiment_config, run_script, section
from arcray.llm.types import DEFAULT_TEMPERATURE
from arcray.runtime.rundir import RunDir
from arcray.runtime.stage import StageRun, completed
from arcray.tracking import TrackingConfig, resolve_uri
from arcray.pipelines.sampling import ConsistencyConfig, GenerateConfig, run_consistency, run_sc_generate
from arcray.report import bar_plot, image, markdown_table, training_section, write_report
from arcray.training.prepare import PrepareConfig, run_prepare
from arcray.validation import build_config

KEYS = ("out", "student", "warmup", "measure", "generate", "sampling", "train", "tracking")
SMOKE = {  # every stage runs, on as little as still says something: it is CI's end-to-end run of the experiment
    "measure": {"math": {"source": "arith", "split": "heldout", "seed": 0, "limit": 2}, "code": None, "n": 3,
                "max_new_tokens": 64},
    "generate": {"math": {"source": "arith", "split": "train", "seed": 0, "limit": 8}, "code": None, "max_new_tokens": 64},
    "train": {"epochs": 1, "grad_accum": 1, "load_in_4bit": False},
}
SMOKE_WARMUP = {"data": {"limit": 8}, "train": {"epochs": 1}}
METRICS = ("consistency", "distinct_responses", "tie_rate", "accuracy", "maj_accuracy")
CATEGORIES = ("math", "code")


class Measure(BaseModel):
    """The ``measure`` section: held-out prompts per category, sampled n times at one temperature."""

    model_config = ConfigDict(extra="forbid")

    math: dict[str, Any] | None = None
    code: dict[str, Any] | None = None
    n: int = 10
    temperature: float = DEFAULT_TEMPERATURE
    max_new_tokens: int = 384


class Generate(BaseModel):
    """The ``generate`` section: training prompts per category, answered at the plan's temperatures."""

    model_config = ConfigDict(extra="forbid")

    math: dict[str, Any] | None = None
    code: dict[str, Any] | None = None
    max_new_tokens: int = 384


class Warmup(BaseModel):
    """The ``warmup`` section: reference solutions to LoRA-tune on first (the plan's phase 1A)."""

    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any]
    train: dict[str, Any] = {}


def measure_configs(config: dict[str, Any], out: Path, student: dict[str, Any], label: str) -> dict[str, ConsistencyConfig]:
    settings = build_config(Measure, "measure", **section(config, "measure"))
    return {category: ConsistencyConfig.build(
        student=student, dataset=getattr(settings, category), n=settings.n, temperature=settings.temperature,
        max_new_tokens=settings.max_new_tokens, out=out / label / category, tracking=tracking_config(config, out),
        **section(config, "sampling"))
        for category in CATEGORIES if getattr(settings, category)}


def generate_configs(config: dict[str, Any], out: Path, student: dict[str, Any]) -> dict[str, GenerateConfig]:
    settings = build_config(Generate, "generate", **section(config, "generate"))
    return {category: GenerateConfig.build(
        student=student, dataset=getattr(settings, category), max_new_tokens=settings.max_new_tokens,
        out=out / "generate" / category, tracking=tracking_config(config, out), **section(config, "sampling"))
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
    resolved["measure"] = {c: m.model_dump(mode="json") for c, m in measure_configs(config, out, student, "before").items()}
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


def measure(config: dict[str, Any], out: Path, student: dict[str, Any], label: str) -> dict[str, dict[str, Any]]:
    summaries = {}
    for category, settings in measure_configs(config, out, student, label).items():
        print(f"[{label}] consistency on held-out {category.upper()}: n={settings.n} at T={settings.temperature}", flush=True)
        summaries[category] = run_consistency(settings)
    return summaries


def generate(config: dict[str, Any], out: Path, student: dict[str, Any]) -> list[Path]:
    files = []
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


def report(out: Path, stages: dict[str, dict], trainings: dict[str, dict], gates_before: str, gates_after: str) -> Path:
    """report.md: every measured stage (base, before, after) per category, the training runs, the gates."""
    rows = []
    categories = list(stages["before"])
    at = measured_at(stages)
    for category in categories:
        for when, summaries in stages.items():
            m = summaries[category]["metrics"]
            rows.append({"category": category.upper(), "when": when, **{k: m.get(k) for k in METRICS},
                         "prompts": summaries[category]["prompts"]})
    charts = []
    shown = ("consistency", "tie_rate", "accuracy")
    for category in categories:
        chart = bar_plot(out / f"{category}_before_after.png", list(shown),
                         {when: [s[category]["metrics"].get(k) or 0.0 for k in shown] for when, s in stages.items()},
                         title=f"{category.upper()}: held-out prompts at {at}", ylabel="share",
                         reference={"consistency": 0.40} if category == "math" else None)
        charts.append(image(chart, out, f"{category} before and after"))
    legend = ("base: the configured student; before: the model phase 1B starts from (after the warm start); "
              "after: that model with the self-consistency adapter." if "base" in stages else "")
    sections = [
        f"## Before and after (held-out prompts, n samples at {at})\n" + legend + "\n\n" + markdown_table(rows),
        "\n\n".join(charts),
        *(training_section(out, trained, title, plot=f"{name}_loss.png") for name, (title, trained) in trainings.items()),
        "## Gates before\n```\n" + gates_before + "\n```",
        "## Gates after\n```\n" + gates_after + "\n```",
    ]
    return write_report(out, "Self-consistency distillation (phase 1B.1)", sections)


def measured_at(stages: dict[str, dict]) -> str:
    """The temperature the measured runs were sampled at, as their summaries record it: "T=0.5" ("T=0.5/0.7" if they differ)."""
    used = sorted({s["temperature"] for summaries in stages.values() for s in summaries.values()})
    return "T=" + "/".join(f"{t:g}" for t in used)


def run(args: argparse.Namespace) -> Finished:
    config = load_experiment_config(args.config, KEYS, SMOKE if args.smoke_test else None, getattr(args, "overrides", ()))
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
        gates_before = format_gates(evaluate_gates(_board(out / "before")))
        gates_after = format_gates(evaluate_gates(_board(out / "after")))
        print("gates after training:\n" + gates_after, flush=True)
        path = report(out, stages, trainings, gates_before, gates_after)
        experiment.finish(metrics={f"{when}.{category}.{k}": v for when, summaries in stages.items()
                                   for category, summary in summaries.items()
                                   for k, v in summary["metrics"].items() if isinstance(v, (int, float))},
                          outputs=["report.md"])
    return Finished(f"report: {path}")


def main(argv: list[str] | None = None) -> int:
    return run_script(argv, name="self_consistency", doc=__doc__, run=run,
                      config=Path("experiments/configs/self_consistency.yaml"), smoke_test="a few prompts, one epoch: minutes")


def _board(folder: Path) -> dict[str, dict[str, Any]]:
    per_prompt = []
    for samples in sorted(folder.glob(f"*/{SAMPLES}")):
        records = samples_from_json(RunDir(samples.parent).read_records(SAMPLES), where=str(samples))
        per_prompt += [(s.category, s.metrics) for s in records]
    return scoreboard(per_prompt)


if __name__ == "__main__":
    sys.exit(main())
