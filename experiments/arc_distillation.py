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

from arcray.arc.render import RenderConfig
from arcray.civilization.config import EvolutionConfig
from arcray.civilization.prompts import first_listed_solves
from arcray.errors import ArcrayError, ConfigError
from arcray.experiment import EXPERIMENT_CONFIG, Finished, load_experiment_config, replicate_count, run_script, section
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
    "prepare": {"max_train_examples": 6, "augment": {"synthetic": 0}},
    "train": {"epochs": 1, "max_length": 1024, "load_in_4bit": False, "merge": False},
    "evaluate": {"held_out": 2, "limit": 2, "max_generations": 1, "population": 2, "max_new_tokens": 64},
}
SMOKE_REPLICATES = 2  # CI's end-to-end run goes through two held-out splits and the pooled report
KEYS = ("out", "replicates", "teacher", "gemini_teacher", "search_teacher", "collect", "prepare", "train", "evaluate",
        "tracking")
MAX_REPLICATES = 20


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


def split_seeds(config: dict[str, Any]) -> list[int]:
    """The replicates' held-out splits: ``replicates`` consecutive ``prepare.seed`` values from the configured one."""
    count = replicate_count(config, maximum=MAX_REPLICATES, what="held-out splits to run")
    first = section(config, "prepare").get("seed", 0)
    if isinstance(first, bool) or not isinstance(first, int):
        raise ConfigError(f"prepare.seed: {first!r} is not a whole number; give the first held-out split's seed (e.g. 0)")
    return [first + r for r in range(count)]


def prepare_config(config: dict[str, Any], out: Path, seed: int, folder: Path) -> PrepareConfig:
    settings = {**section(config, "prepare"), "seed": seed}
    settings.setdefault("tracking", tracking_config(config, out))
    if settings.get("max_tokens"):
        settings.setdefault("tokenizer", section(config, "train").get("model"))
    return build_config(PrepareConfig, "prepare", sources=[out / "collect"], out=folder / "data", **settings)


def train_config(config: dict[str, Any], out: Path, folder: Path, *, data_later: bool = False) -> TrainConfig:
    return TrainConfig.build(data=folder / "data", out=folder / "train", data_later=data_later,
                             **{"tracking": tracking_config(config, out), **section(config, "train")})


def evaluation(config: dict[str, Any]) -> StudentEvaluation:
    return build_config(StudentEvaluation, "evaluate", **{**STUDENT_EVOLUTION.model_dump(), **section(config, "evaluate")})


class Replicate(BaseModel):
    """One held-out split: its dataset, its student, its evaluations, all under ``out/split-SEED``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    out: Path
    prepare: PrepareConfig
    train: TrainConfig


class ArcDistillation(BaseModel):
    """The whole experiment as its stages' typed configs, built and checked before the first runs: one collection,
    shared, and one replicate per held-out split."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    out: Path
    collect: CollectConfig
    replicates: list[Replicate]
    evaluate: StudentEvaluation
    tracking: TrackingConfig

    @property
    def train(self) -> TrainConfig:
        """The student's training settings (the same for every replicate but for its data)."""
        return self.replicates[0].train

    @property
    def method(self) -> str:
        """QLoRA on a 4-bit base (TrainConfig's default), or LoRA on a full-precision one."""
        return "QLoRA" if self.train.load_in_4bit else "LoRA (full-precision base)"


def resolve(config: dict[str, Any], out: Path) -> ArcDistillation:
    """Every section checked as its stage's typed config before the first stage runs (with the
    teacher ``auto`` chose); its dump goes to the top of the run directory."""
    # Each part is validated as it is built (the train part knowing its data comes later), so the
    # whole is assembled without validating them again.
    evaluate = evaluation(config)
    replicates = [Replicate.model_construct(name=f"split-{seed}", out=out / f"split-{seed}",
                                            prepare=prepare_config(config, out, seed, out / f"split-{seed}"),
                                            train=train_config(config, out, out / f"split-{seed}", data_later=True))
                  for seed in split_seeds(config)]
    student_config(replicates[0].train.model, **evaluate.student)  # the students' backend fields, checked now
    return ArcDistillation.model_construct(out=out, collect=collect_config(config, out), replicates=replicates,
                                           evaluate=evaluate, tracking=tracking_config(config, out))


def collect(plan: ArcDistillation) -> dict[str, Any]:
    print(f"[1/4] collect with the {plan.collect.teacher.backend} teacher on {plan.collect.tasks}", flush=True)
    return run_collect(plan.collect)


def prepare(replicate: Replicate, tag: str) -> dict[str, Any]:
    print(f"[2/4]{tag} prepare the fine-tuning dataset (held-out split seed {replicate.prepare.seed})", flush=True)
    return run_prepare(replicate.prepare)


def train(replicate: Replicate, method: str, tag: str) -> dict[str, Any]:
    from arcray.training.train import TRAIN_OPERATIONAL, run_training

    summary_path = replicate.train.out / "summary.json"
    if completed(replicate.train.out, "train", config=replicate.train.model_dump(mode="json"), operational=TRAIN_OPERATIONAL):
        print(f"[3/4]{tag} train: already done", flush=True)
        return json.loads(summary_path.read_text())
    settings = TrainConfig.build(**replicate.train.model_dump())  # the data is there now: checked again
    print(f"[3/4]{tag} train {settings.model} with {method} on Ray Train", flush=True)
    return run_training(settings)


def evaluate(plan: ArcDistillation, replicate: Replicate, trained: dict[str, Any], tag: str) -> dict[str, dict[str, Any]]:
    """Both students on the split's held-out tasks, linked by reference: the prompt (render settings, exemplar pool) and,
    unless ``evaluate.tasks`` names another source, the held-out task ids come from the prepare run's manifest."""
    section = plan.evaluate
    if section.tasks:  # another source altogether (held out by construction), selected by size
        where = dict(tasks=section.tasks, max_cells=section.max_cells, limit=section.limit)
    else:
        held_out = read_artifact(replicate.prepare.out, need=("prepare",), role="prepare").exports["held_out_ids"]
        if not held_out:
            raise ArcrayError("no held-out tasks: the teacher solved too few tasks for a validation split; raise collect.limit")
        where = dict(limit=section.held_out or None)
    model = replicate.train.model
    fields = section.student
    students = {"base": student_config(model, **fields), "fine-tuned": student_config(model, trained["adapter"], **fields)}
    results = {}
    for name, student in students.items():
        config = EvaluateConfig.build(student=student, data=replicate.prepare.out, **where, evolution=section.evolution(),
                                      tasks_per_actor=section.tasks_per_actor,
                                      num_cpus_per_actor=section.num_cpus_per_actor
                                      or (1.0 if section.num_gpus_per_actor else float(os.cpu_count() or 1)),
                                      num_gpus_per_actor=section.num_gpus_per_actor, tracking=plan.tracking,
                                      out=str(replicate.out / f"eval-{name}"))
        resolved = config.resolved()
        count = len(load_tasks(resolved.tasks, ids=resolved.ids, limit=resolved.limit, max_cells=resolved.max_cells))
        print(f"[4/4]{tag} evaluate the {name} student on {count} held-out tasks", flush=True)
        results[name] = run_evaluate(config)
    return results


def retrieval_baseline(replicate: Replicate, evaluated: dict[str, dict[str, Any]]) -> list[str] | None:
    """The held-out tasks the first listed exemplar solves with no model (``first_listed_solves``): what a student
    that only copied the top of its list would solve, beside what the students solved."""
    render = RenderConfig.model_validate(read_artifact(replicate.prepare.out, need=("prepare",), role="prepare").exports["render"])
    if not render.exemplars:
        return None  # no list to copy from
    ids = [t["task_id"] for t in next(iter(evaluated.values()))["tasks"]]
    source = read_artifact(replicate.out / "eval-base", need=("evaluate",), role="evaluate").config["tasks"]
    return sorted(t.id for t in load_tasks(source, ids=ids) if first_listed_solves(t, render))


def decoding(section: StudentEvaluation) -> str:
    """How the students' programs were sampled, said in the report next to what they scored."""
    said = f"k = {section.population} programs per task at temperature {section.temperature:g}"
    if section.grammar == "arcdsl":
        said += (f", sampled under the arcdsl grammar (every program a well-formed solver of 1-{section.grammar_steps} "
                 "arcdsl calls, each with its own parameters: the runnable share measures the programs' choices, not their syntax)")
    return said + "."


def _students_rows(figures: dict[str, Any], counts: dict[str, tuple[int, int]], split: str | None = None) -> list[dict]:
    from arcray.arc.scoring import format_figure

    rows = []
    for name in ("base", "fine-tuned"):
        if name not in figures:
            continue
        f = figures[name]
        solved, tasks = counts[name]
        rows.append({**({"split": split} if split else {}), "student": name, "tasks": tasks,
                     "solved (pass@2)": f"{solved} · " + format_figure(f["solved"]),
                     "solved (pass@1)": format_figure(f["solved_first"]),
                     "a program fits the train pairs": format_figure(f["train_fit"]),
                     "runnable programs": format_figure(f["runnable"]),
                     "programs of the right output size": format_figure(f["sized"])})
    return rows


def _paired_row(figures: dict[str, Any], split: str) -> dict[str, str]:
    from arcray.arc.scoring import format_figure

    paired = figures.get("paired", {})
    return {"split": split, **{f"{field}, fine-tuned − base": format_figure(paired[field]) if field in paired else "—"
                               for field in ("solved", "runnable", "sized")}}


def report(out: Path, collected: dict, splits: dict[str, dict[str, Any]], training_method: str,
           sampling: str = "") -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """report.md: the shared collection, then every figure per split (replicate) and pooled over the splits.

    ``splits`` maps a split's name to {"prepared", "trained", "evaluated"} (the stages' summaries)."""
    from arcray.arc.replication import goal, pooled_figures, split_figures
    from arcray.arc.scoring import TaskScore

    scores = {split: {name: [TaskScore(**t) for t in r["tasks"]] for name, r in parts["evaluated"].items()}
              for split, parts in splits.items()}
    per_split = {split: split_figures(students) for split, students in scores.items()}
    pooled = pooled_figures(scores)
    count = len(splits)

    def counts(students: dict[str, list[TaskScore]]) -> dict[str, tuple[int, int]]:
        return {name: (sum(s.solved for s in ss), len(ss)) for name, ss in students.items()}

    pooled_counts = {name: (pooled["solved_count"][name], pooled["tasks"][name]) for name in pooled["tasks"]}
    bars = bar_plot(out / "students.png", ["solved (pass@2)", "train-fit", "runnable programs"],
                    {name: [pooled[name]["solved"]["value"], pooled[name]["train_fit"]["value"], pooled[name]["runnable"]["value"]]
                     for name in pooled["tasks"]},
                    title=f"Base vs fine-tuned student, pooled over {count} held-out split{'s' * (count != 1)}", ylabel="share of tasks")
    prepared_rows = [{"split": split, **{k: parts["prepared"][k] for k in ("examples", "train", "validation")},
                      "held-out tasks": len(parts["evaluated"].get("base", {}).get("tasks", [])),
                      "training tokens": parts["prepared"].get("train_tokens"), "steps": parts["trained"]["steps"],
                      "final train loss": parts["trained"]["final"].get("train_loss"),
                      "best eval loss": parts["trained"]["best"]["eval_loss"], "train wall s": parts["trained"].get("wall_s")}
                     for split, parts in splits.items()]
    first = next(iter(splits.values()))["prepared"]
    kinds = [{"kind": k.removeprefix("arc/"), "examples": n, "in training": first.get("by_kind_train", {}).get(k, 0)}
             for k, n in first["by_kind"].items()]
    rejected = first.get("rejected_by_augment") or {}
    solved = [{"split": split, **{name: ", ".join(sorted(t["task_id"] for t in r["tasks"] if t["solved"])) or "none"
                                  for name, r in parts["evaluated"].items()},
               **({"first listed exemplar alone (no model)": ", ".join(parts["retrieval"]) or "none"}
                  if parts.get("retrieval") is not None else {})} for split, parts in splits.items()]
    retrieved = sum(len(parts.get("retrieval") or []) for parts in splits.values())
    baseline = (f"Retrieval baseline: the first exemplar each prompt lists, run as it is with no model, solves {retrieved} "
                f"of the {sum(c[1] for c in pooled_counts.values()) // max(len(pooled_counts), 1)} held-out tasks; a "
                "student's solved count above it is what the student adds to copying the top of its list.\n\n"
                if any(parts.get("retrieval") is not None for parts in splits.values()) else "")
    sections = [
        "## Teacher collection (shared by every split)\n"
        + markdown_table([{k: collected[k] for k in ("attempted", "solved", "solved_share", "in_dataset", "failed")}])
        + f"\n\nTokens: {collected['usage'].get('total_tokens', 0)}; estimated cost ${collected['estimated_cost_usd']}; "
        f"fitness histogram {collected['fitness']['histogram']}.",
        f"## Students, pooled over {count} held-out split{'s' * (count != 1)}\n"
        "A replicate is one held-out split (`prepare.seed`): which teacher-solved tasks are held out, so its own training "
        "set, its own fine-tuned student, and its own held-out tasks, on which both students are scored. Each figure is "
        "the share over held-out tasks with its 95% interval; pooled figures resample the splits, then the tasks within "
        "them (arcray/stats.py), so a gain seen on one split only does not get a tight pooled interval. Solved: every "
        "test output matched by one of two attempts (pass@2) or by the first (pass@1); the attempts are the best two "
        "distinct grids of the k sampled programs, ranked by the train pairs only. Runnable: the program returned a grid "
        "for every train input. Right output size: its grids had the expected size on every train input. "
        + (f"Sampling: {sampling}" if sampling else "") + "\n\n"
        + goal(pooled, count) + "\n\n" + baseline
        + markdown_table(_students_rows(pooled, pooled_counts))
        + "\n\n" + markdown_table([_paired_row(pooled, "pooled")])
        + "\n\n" + image(bars, out, "students"),
        "## Per split\n" + markdown_table([row for split, students in scores.items()
                                            for row in _students_rows(per_split[split], counts(students), split)])
        + "\n\nFine-tuned minus base on the same tasks (paired, 95%):\n\n"
        + markdown_table([_paired_row(per_split[split], split) for split in scores] + [_paired_row(pooled, "pooled")])
        + "\n\nSolved tasks:\n\n" + markdown_table(solved),
        "## Datasets and training, per split\n" + markdown_table(prepared_rows)
        + f"\n\nExample kinds ({next(iter(splits))}):\n\n" + markdown_table(kinds)
        + ("\n\nRejected in the sandbox: " + "; ".join(f"{k} ({n})" for k, n in rejected.items()) + "." if rejected else ""),
        *(training_section(out, parts["trained"], f"{training_method} training, {split}", plot=f"{split}_loss.png")
          for split, parts in splits.items()),
        "Submissions: `split-*/eval-base/submission.json`, `split-*/eval-fine-tuned/submission.json`; every sampled "
        "program and its raw completion: `split-*/eval-*/attempts.jsonl`. Adapters: "
        + ", ".join(f"`{parts['trained']['adapter']}`" for parts in splits.values()) + ".",
    ]
    return write_report(out, "ARC distillation", sections), per_split, pooled


def _metrics(per_split: dict[str, Any], pooled: dict[str, Any]) -> dict[str, Any]:
    """The experiment manifest's headline figures: every split's and the pooled ones, each {value, low, high}."""
    figures = {**{split: f for split, f in per_split.items()}, "pooled": pooled}
    return {f"{where}.{who}.{field}": {k: value[k] for k in ("value", "low", "high")}
            for where, f in figures.items() for who, fields in f.items() if who in ("base", "fine-tuned", "paired")
            for field, value in fields.items()}


def run(args: argparse.Namespace) -> Finished:
    config = load_experiment_config(args.config, KEYS, SMOKE if args.smoke_test else None, getattr(args, "overrides", ()))
    if args.smoke_test:
        config["replicates"] = SMOKE_REPLICATES
    out = Path(args.out or config["out"])
    plan = resolve(config, out)  # every section, before anything runs or is written
    # The experiment's own run: its stages' folders below it, each with its own manifest, linked by reference.
    with StageRun(out, "experiment", config=plan.model_dump(mode="json"), operational=("tracking",),
                  seeds={**{r.name: r.prepare.seed for r in plan.replicates}, "train": plan.train.seed}) as experiment:
        RunDir(out).write_config(plan.model_dump(mode="json"), name=EXPERIMENT_CONFIG)
        collected = collect(plan)
        splits = {}
        for i, replicate in enumerate(plan.replicates, 1):
            tag = f" [{replicate.name}, {i}/{len(plan.replicates)}]"
            prepared = prepare(replicate, tag)
            trained = train(replicate, plan.method, tag)
            evaluated = evaluate(plan, replicate, trained, tag)
            splits[replicate.name] = {"prepared": prepared, "trained": trained, "evaluated": evaluated,
                                      "retrieval": retrieval_baseline(replicate, evaluated)}
        path, per_split, pooled = report(out, collected, splits, plan.method, decoding(plan.evaluate))
        experiment.finish(metrics=_metrics(per_split, pooled), outputs=["report.md"],
                          exports={"stages": ["collect"] + [f"{r.name}/{stage}" for r in plan.replicates
                                                            for stage in ("data", "train", "eval-base", "eval-fine-tuned")]})
    return Finished(f"report: {path}")


def main(argv: list[str] | None = None) -> int:
    return run_script(argv, name="arc_distillation", doc=__doc__, run=run,
                      config=Path("experiments/configs/arc_distillation.yaml"), smoke_test="a few tasks, one epoch: minutes")


if __name__ == "__main__":
    sys.exit(main())
