"""ARC program-synthesis distillation, end to end: collect → prepare → train → evaluate → report.

    python experiments/arc_distillation.py --config experiments/configs/arc_distillation.yaml [--smoke-test]
    ray job submit --working-dir . -- python experiments/arc_distillation.py --config experiments/configs/arc_distillation.yaml

Every step writes its own folder under ``out`` and resumes when re-run: collection and
evaluation skip recorded tasks, training is skipped once it has a summary.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from arcray.civilization.config import EvolutionConfig
from arcray.errors import ArcrayError, ConfigError
from arcray.experiment import EXPERIMENT_CONFIG, Finished, load_experiment_config, run_script, section
from arcray.llm.registry import student_config
from arcray.pipelines.collect import CollectConfig, run_collect
from arcray.pipelines.evaluate import STUDENT_EVOLUTION, EvaluateConfig, run_evaluate
from arcray.arc.tasks import load_tasks
from arcray.runtime.manifest import read_artifact
from arcray.runtime.rundir import RunDir
from arcray.runtime.stage import StageRun, completed
from arcray.tracking import TrackingConfig, resolve_uri
from arcray.report import bar_plot, image, markdown_table, training_section, write_report
from arcray.training.config import TrainConfig
from arcray.training.prepare import PrepareConfig, run_prepare
from arcray.validation import build_config

SMOKE = {
    "collect": {"limit": 24},
    "prepare": {"max_train_examples": 12, "augment": {"synthetic": 0}},
    "train": {"epochs": 1, "max_length": 1024, "load_in_4bit": False, "merge": False},
    "evaluate": {"held_out": 2, "limit": 2, "max_generations": 1, "population": 2, "max_new_tokens": 128},
}
KEYS = ("out", "teacher", "gemini_teacher", "search_teacher", "collect", "prepare", "train", "evaluate", "tracking")


class StudentEvaluation(EvolutionConfig):
    """The experiment's ``evaluate`` section: how many held-out tasks, and how hard the student tries
    (``population``: the k programs sampled per task; the best two by the train pairs are submitted)."""

    held_out: int = Field(0, ge=0, description="held-out tasks to evaluate on (0: every one the split kept out)")
    tasks: str | None = Field(None, description="evaluate on this task source instead (e.g. arc1/eval: held out by "
                              "construction, solved by the teacher or not); None: the collection's held-out split")
    max_cells: int | None = Field(None, ge=1, description="with tasks: only those whose prompt shows at most this many cells")
    limit: int | None = Field(None, ge=1, description="with tasks: only the first N (by id)")
    tasks_per_actor: int = Field(1, ge=1, le=64, description="held-out tasks the student works on at once; their "
                                 "generate calls are merged into batched engine calls")
    student: dict[str, Any] = Field({}, description="fields added to both students' backend config, e.g. {dtype: bfloat16}")
    num_cpus_per_actor: float | None = Field(None, gt=0, description="CPUs of the one student replica (None: all of "
                                             "this machine's, so that its engine uses every core; 1 with a GPU)")
    num_gpus_per_actor: float = Field(0.0, ge=0, description="GPUs of the student replica (GPU clusters)")

    def evolution(self) -> EvolutionConfig:
        return EvolutionConfig(**self.model_dump(exclude={"held_out", "tasks_per_actor", "student", "num_cpus_per_actor",
                                                          "tasks", "max_cells", "limit", "num_gpus_per_actor"}))


def choose_teacher(config: dict[str, Any]) -> dict[str, Any]:
    choice = config.get("teacher", "auto")
    if choice == "auto":
        has_key = bool(os.environ.get("GEMINI_API_KEY") or os.environ.get("GOOGLE_API_KEY"))
        return dict(section(config, "gemini_teacher" if has_key else "search_teacher"))
    if isinstance(choice, dict):
        return choice
    raise ConfigError("teacher must be 'auto' or a teacher mapping ({backend: gemini|search|hf, …})")


def tracking_config(config: dict[str, Any], out: Path) -> TrackingConfig:
    """One tracking store for the whole experiment (``out/mlruns`` unless the config or MLFLOW_TRACKING_URI names one),
    so that every stage's run lands beside the others."""
    tracking = build_config(TrackingConfig, "tracking", **section(config, "tracking"))
    return tracking.model_copy(update={"uri": resolve_uri(tracking, out)})


def collect_config(config: dict[str, Any], out: Path) -> CollectConfig:
    teacher = choose_teacher(config)
    settings = dict(section(config, "collect"))
    settings.setdefault("tracking", tracking_config(config, out))
    if teacher["backend"] == "search":
        settings.setdefault("concurrency", os.cpu_count() or 1)
        settings.setdefault("num_cpus_per_actor", 1.0)
    return CollectConfig.build(teacher=teacher, out=str(out / "collect"), **settings)


def prepare_config(config: dict[str, Any], out: Path) -> PrepareConfig:
    settings = dict(section(config, "prepare"))
    settings.setdefault("tracking", tracking_config(config, out))
    if settings.get("max_tokens"):
        settings.setdefault("tokenizer", section(config, "train").get("model"))
    return build_config(PrepareConfig, "prepare", sources=[out / "collect"], out=out / "data", **settings)


def train_config(config: dict[str, Any], out: Path, *, data_later: bool = False) -> TrainConfig:
    return TrainConfig.build(data=out / "data", out=out / "train", data_later=data_later,
                             **{"tracking": tracking_config(config, out), **section(config, "train")})


def evaluation(config: dict[str, Any]) -> StudentEvaluation:
    return build_config(StudentEvaluation, "evaluate", **{**STUDENT_EVOLUTION.model_dump(), **section(config, "evaluate")})


class ArcDistillation(BaseModel):
    """The whole experiment as its stages' typed configs, built and checked before the first runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    out: Path
    collect: CollectConfig
    prepare: PrepareConfig
    train: TrainConfig
    evaluate: StudentEvaluation
    tracking: TrackingConfig

    @property
    def method(self) -> str:
        """QLoRA on a 4-bit base (TrainConfig's default), or LoRA on a full-precision one."""
        return "QLoRA" if self.train.load_in_4bit else "LoRA (full-precision base)"


def resolve(config: dict[str, Any], out: Path) -> ArcDistillation:
    """Every section checked as its stage's typed config before the first stage runs (with the
    teacher ``auto`` chose); its dump goes to the top of the run directory."""
    # Each part is validated as it is built (the train part knowing its data comes later), so the
    # whole is assembled without validating them again.
    train, evaluate = train_config(config, out, data_later=True), evaluation(config)
    student_config(train.model, **evaluate.student)  # the students' backend fields, checked now: one line if wrong
    return ArcDistillation.model_construct(out=out, collect=collect_config(config, out), prepare=prepare_config(config, out),
                                           train=train, evaluate=evaluate, tracking=tracking_config(config, out))


def collect(plan: ArcDistillation) -> dict[str, Any]:
    print(f"[1/4] collect with the {plan.collect.teacher.backend} teacher on {plan.collect.tasks}", flush=True)
    return run_collect(plan.collect)


def prepare(plan: ArcDistillation) -> dict[str, Any]:
    print("[2/4] prepare the fine-tuning dataset", flush=True)
    return run_prepare(plan.prepare)


def train(plan: ArcDistillation) -> dict[str, Any]:
    from arcray.training.train import TRAIN_OPERATIONAL, run_training

    summary_path = plan.train.out / "summary.json"
    if completed(plan.train.out, "train", config=plan.train.model_dump(mode="json"), operational=TRAIN_OPERATIONAL):
        print("[3/4] train: already done", flush=True)
        return json.loads(summary_path.read_text())
    settings = TrainConfig.build(**plan.train.model_dump())  # the data is there now: checked again
    print(f"[3/4] train {settings.model} with {plan.method} on Ray Train", flush=True)
    return run_training(settings)


def evaluate(plan: ArcDistillation, trained: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Both students on the held-out tasks, linked by reference: the prompt (render settings, exemplar pool) and,
    unless ``evaluate.tasks`` names another source, the held-out task ids come from the prepare run's manifest."""
    section = plan.evaluate
    if section.tasks:  # another source altogether (held out by construction), selected by size
        where = dict(tasks=section.tasks, max_cells=section.max_cells, limit=section.limit)
    else:
        held_out = read_artifact(plan.prepare.out, need=("prepare",), role="prepare").exports["held_out_ids"]
        if not held_out:
            raise ArcrayError("no held-out tasks: the teacher solved too few tasks for a validation split; raise collect.limit")
        where = dict(limit=section.held_out or None)
    model = plan.train.model
    fields = section.student
    students = {"base": student_config(model, **fields), "fine-tuned": student_config(model, trained["adapter"], **fields)}
    results = {}
    for name, student in students.items():
        config = EvaluateConfig.build(student=student, data=plan.prepare.out, **where, evolution=section.evolution(),
                                      tasks_per_actor=section.tasks_per_actor,
                                      num_cpus_per_actor=section.num_cpus_per_actor
                                      or (1.0 if section.num_gpus_per_actor else float(os.cpu_count() or 1)),
                                      num_gpus_per_actor=section.num_gpus_per_actor, tracking=plan.tracking,
                                      out=str(plan.out / f"eval-{name}"))
        resolved = config.resolved()
        count = len(load_tasks(resolved.tasks, ids=resolved.ids, limit=resolved.limit, max_cells=resolved.max_cells))
        print(f"[4/4] evaluate the {name} student on {count} held-out tasks", flush=True)
        results[name] = run_evaluate(config)
    return results


def decoding(section: StudentEvaluation) -> str:
    """How the students' programs were sampled, said in the report next to what they scored."""
    said = f"k = {section.population} programs per task at temperature {section.temperature:g}"
    if section.grammar == "arcdsl":
        said += (f", sampled under the arcdsl grammar (every program a well-formed solver of 1-{section.grammar_steps} "
                 "arcdsl calls, each with its own parameters: the runnable share measures the programs' choices, not their syntax)")
    return said + "."


def report(out: Path, collected: dict, prepared: dict, trained: dict, evaluated: dict, training_method: str,
           sampling: str = "") -> Path:
    from arcray.arc.scoring import TaskScore, format_figure, paired_difference

    rows = []
    for name, r in evaluated.items():
        f = r["figures"]
        rows.append({"student": name, "tasks": r["attempted"], "solved (pass@2)": f"{r['solved_pass2']} · " + format_figure(f["solved"]),
                     "solved (pass@1)": format_figure(f["solved_first"]), "a program fits the train pairs": format_figure(f["train_fit"]),
                     "runnable programs": format_figure(f["runnable"]),
                     "programs of the right output size": format_figure(f["sized"]),
                     "submission score": r["submission_score"]})
    scores = {name: [TaskScore(**t) for t in r["tasks"]] for name, r in evaluated.items()}
    effect = ""
    if {"base", "fine-tuned"} <= scores.keys():
        gain = {field: paired_difference(scores["fine-tuned"], scores["base"], field) for field in ("solved", "runnable", "sized")}
        effect = (f"Fine-tuned minus base on the same tasks (paired bootstrap, 95%): solved {format_figure(gain['solved'])}, "
                  f"runnable {format_figure(gain['runnable'])}, right output size {format_figure(gain['sized'])}.")
    bars = bar_plot(out / "students.png", ["solved (pass@2)", "train-fit", "runnable programs"],
                    {name: [r["figures"]["solved"]["value"], r["figures"]["train_fit"]["value"], r["figures"]["runnable"]["value"]]
                     for name, r in evaluated.items()},
                    title="Base vs fine-tuned student (held-out tasks)", ylabel="share of tasks")
    kinds = [{"kind": k.removeprefix("arc/"), "examples": n, "in training": prepared.get("by_kind_train", {}).get(k, 0)}
             for k, n in prepared["by_kind"].items()]
    rejected = prepared.get("rejected_by_augment") or {}
    solved = {name: sorted(t["task_id"] for t in r["tasks"] if t["solved"]) for name, r in evaluated.items()}
    sections = [
        "## Teacher collection\n" + markdown_table([{k: collected[k] for k in ("attempted", "solved", "solved_share", "in_dataset", "failed")}])
        + f"\n\nTokens: {collected['usage'].get('total_tokens', 0)}; estimated cost ${collected['estimated_cost_usd']}; "
        f"fitness histogram {collected['fitness']['histogram']}.",
        "## Dataset (augmentation)\n" + markdown_table([{k: prepared[k] for k in ("examples", "train", "validation", "dropped_over_max_tokens")}
                                                           | {"dropped over max_train_examples": prepared.get("dropped_over_max_train_examples", 0),
                                                              "training tokens": prepared.get("train_tokens")}])
        + "\n\n" + markdown_table(kinds)
        + ("\n\nRejected in the sandbox: " + "; ".join(f"{k} ({n})" for k, n in rejected.items()) + "." if rejected else ""),
        training_section(out, trained, f"{training_method} training"),
        "## Students on the same held-out tasks\n"
        "Each figure is the share over held-out tasks with its 95% bootstrap interval over tasks. Solved: every test output "
        "matched by one of two attempts (pass@2) or by the first (pass@1); the attempts are the best two distinct grids of the "
        "k sampled programs, ranked by the train pairs only. Runnable: the program returned a grid for every train input. "
        "Right output size: its grids had the expected size on every train input (whether it read the task's size rule). "
        + (f"Sampling: {sampling}" if sampling else "") + "\n\n"
        + markdown_table(rows) + ("\n\n" + effect if effect else "")
        + "\n\nSolved tasks: " + "; ".join(f"{name}: {', '.join(ids) or 'none'}" for name, ids in solved.items())
        + "\n\n" + image(bars, out, "students"),
        "Submissions: `eval-base/submission.json`, `eval-fine-tuned/submission.json`; every sampled program and its raw "
        f"completion: `eval-*/attempts.jsonl`. Adapter: `{trained['adapter']}`.",
    ]
    return write_report(out, "ARC distillation", sections)


def run(args: argparse.Namespace) -> Finished:
    config = load_experiment_config(args.config, KEYS, SMOKE if args.smoke_test else None, getattr(args, "overrides", ()))
    out = Path(args.out or config["out"])
    plan = resolve(config, out)  # every section, before anything runs or is written
    # The experiment's own run: its stages' folders below it, each with its own manifest, linked by reference.
    with StageRun(out, "experiment", config=plan.model_dump(mode="json"), operational=("tracking",),
                  seeds={"split": plan.prepare.seed, "train": plan.train.seed}) as experiment:
        RunDir(out).write_config(plan.model_dump(mode="json"), name=EXPERIMENT_CONFIG)
        collected = collect(plan)
        prepared = prepare(plan)
        trained = train(plan)
        evaluated = evaluate(plan, trained)
        path = report(out, collected, prepared, trained, evaluated, plan.method, decoding(plan.evaluate))
        experiment.finish(metrics={f"{name}.{figure}": {k: values[k] for k in ("value", "low", "high")}
                                   for name, r in evaluated.items() for figure, values in r["figures"].items()},
                          outputs=["report.md"], exports={"stages": ["collect", "data", "train", "eval-base", "eval-fine-tuned"]})
    return Finished(f"report: {path}")


def main(argv: list[str] | None = None) -> int:
    return run_script(argv, name="arc_distillation", doc=__doc__, run=run,
                      config=Path("experiments/configs/arc_distillation.yaml"), smoke_test="a few tasks, one epoch: minutes")


if __name__ == "__main__":
    sys.exit(main())
