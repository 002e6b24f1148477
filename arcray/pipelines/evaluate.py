"""Student evaluation on ARC: the evolution loop with the student as the backend, on Ray Data.

Same machinery as collection (resumable ``attempts.jsonl``, every completion's raw text kept),
but selection uses the train pairs only, so test outputs never steer it: with one generation of
``population`` programs this is "k sampled programs, the best two by the train pairs". Then
``submission.json`` (ARC Prize format, two distinct attempts per test input where two programs
give different grids) is written and scored where solutions exist; ``summary.json`` carries each
figure with its 95% bootstrap interval over tasks and every task's own score.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from arcray.arc.attempt import attempts_from_json, latest

from arcray.arc.render import RenderConfig
from arcray.arc.sandbox import SandboxConfig
from arcray.arc.scoring import figures, score_task, two_attempts
from arcray.arc.submission import build_submission, score_submission, write_submission
from arcray.arc.tasks import load_tasks
from arcray.civilization.config import EvolutionConfig
from arcray.llm.config import CacheConfig
from arcray.llm.registry import AnyBackendConfig
from arcray.pipelines.collect import ATTEMPTS, COLLECT_OPERATIONAL, CollectConfig, check_budget, collect_into
from arcray.arc.sandbox import check_sandbox
from arcray.errors import ArcrayError
from arcray.runtime.manifest import Manifest, input_ref, load_manifest, read_artifact
from arcray.runtime.rundir import RunDir
from arcray.runtime.stage import StageRun
from arcray.tracking import TrackingConfig
from arcray.validation import RunOut, build_config

STUDENT_EVOLUTION = EvolutionConfig(max_generations=3, population=2, use_analyst=False, select_by="train",
                                    max_new_tokens=768)


class EvaluateConfig(BaseModel):
    """`arcray evaluate`: which student, on which tasks, how hard it may try.

    ``data`` names the ``arcray prepare`` run the student learned from; its manifest supplies the prompt
    (render settings, the exemplar pool by path) and, without ``tasks``, the held-out task ids and
    their source, so a student is always scored on the prompt it was trained on.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    student: AnyBackendConfig = Field(description="{backend: hf, model: NAME_OR_DIR, adapter: DIR, …}")
    data: Path | None = Field(None, description="the prepare run the student was trained on (its prompt, its held-out tasks)")
    tasks: str | None = Field(None, description="task source (None: the data's held-out tasks)")
    ids: list[str] | None = None
    limit: int | None = Field(None, ge=0)
    max_cells: int | None = Field(None, ge=1, description="only tasks whose prompt shows at most this many grid cells")
    evolution: EvolutionConfig = STUDENT_EVOLUTION
    sandbox: SandboxConfig = SandboxConfig()
    render: RenderConfig | None = Field(None, description="the prompt (None: the data's, else the default); never both")
    cache: CacheConfig = CacheConfig()
    concurrency: int = Field(1, ge=1, description="model replicas (actors)")
    tasks_per_actor: int = Field(1, ge=1, le=64, description="tasks one replica works on at once; their generate "
                                 "calls are merged into batched engine calls (throughput follows what is in flight)")
    num_cpus_per_actor: float = Field(1.0, gt=0)
    num_gpus_per_actor: float = Field(0.0, ge=0)
    memory_gib_per_actor: float | None = Field(
        None, gt=0, le=4096, description="memory (GiB) each actor asks Ray for, so a node takes no more actors than it "
        "holds; None: the peak measured for the backend (arcray/runtime/memory.py)")
    on_ray: bool = Field(True, description="false: attempt the tasks in this process without Ray (a Kaggle notebook)")
    budget_s: float | None = Field(None, gt=0, description="with on_ray false: start no task after this many seconds")
    out: RunOut = Field(description="run directory: a path or a storage URI")
    tracking: TrackingConfig = Field(default_factory=TrackingConfig, description="where the run's params, metrics and artifacts are logged")

    @model_validator(mode="after")
    def _knows_its_prompt_and_tasks(self) -> "EvaluateConfig":
        check_budget(self.budget_s, self.on_ray)
        if self.data is not None and self.render is not None:
            raise ValueError("the prompt comes from --data (the one the student was trained on): drop the prompt options "
                             "(--prompt, --facts, --exemplars, --exemplar-pool), or drop --data")
        if self.data is None and self.tasks is None:
            raise ValueError("no tasks: pass --tasks SOURCE, or --data PREPARE_RUN to evaluate on its held-out tasks")
        render = self.render or RenderConfig()
        if self.data is None and render.exemplars and not render.exemplar_pool:
            raise ValueError(f"render.exemplars is {render.exemplars} but there is no pool to draw them from: pass "
                             "--data PREPARE_RUN (the `arcray prepare` the student was trained on) or --exemplar-pool "
                             "DATA/exemplars.json")
        return self

    @classmethod
    def build(cls, **fields: Any) -> "EvaluateConfig":
        return build_config(cls, "evaluate config", **fields)

    def prepared(self) -> Manifest | None:
        """The manifest of ``data``, the prepare run (None without one); one line when it is not one."""
        return read_artifact(self.data, need=("prepare",), role="--data") if self.data is not None else None

    def resolved(self, prepared: Manifest | None = None) -> "EvaluateConfig":
        """The config with what ``data``'s manifest (``prepared``, read when not given) says filled in: render,
        and (without tasks) the held-out ids."""
        if self.data is None:
            return self if self.render is not None else self.model_copy(update={"render": RenderConfig()})
        exports = (prepared or self.prepared()).exports
        update: dict[str, Any] = {"render": RenderConfig.model_validate(exports["render"])}
        if self.tasks is None:
            if not exports.get("tasks") or not exports.get("held_out_ids"):
                raise ArcrayError(f"--data {self.data} holds no held-out ARC tasks (its sources were not one collection, or "
                                  "the teacher solved too few for a validation split): pass --tasks SOURCE")
            ids = exports["held_out_ids"] if self.ids is None else [i for i in exports["held_out_ids"] if i in set(self.ids)]
            update.update(tasks=exports["tasks"], ids=ids)
        return self.model_copy(update=update)

    def as_collection(self) -> CollectConfig:
        assert self.tasks is not None and self.render is not None, "resolved() first"
        return CollectConfig.build(
            tasks=self.tasks, ids=self.ids, limit=self.limit, max_cells=self.max_cells, teacher=self.student, evolution=self.evolution,
            sandbox=self.sandbox, render=self.render, cache=self.cache, concurrency=self.concurrency,
            tasks_per_actor=self.tasks_per_actor,
            num_cpus_per_actor=self.num_cpus_per_actor, num_gpus_per_actor=self.num_gpus_per_actor,
            memory_gib_per_actor=self.memory_gib_per_actor, on_ray=self.on_ray, budget_s=self.budget_s, out=self.out,
            tracking=TrackingConfig(backend="none"),
        )


def trained_adapter(path: Path) -> tuple[Path, Path | None]:
    """``--adapter`` given a train run: (its adapter folder, the prepare run it learned from); a plain
    adapter folder as it is (and no data)."""
    manifest = load_manifest(path)
    if manifest is None:
        return path, None
    if manifest.stage != "train":
        read_artifact(path, need=("train",), role="--adapter")  # the one line naming what it is
    data = next((Path(i.location) for i in manifest.inputs if i.stage == "prepare"), None)
    return Path(manifest.exports["adapter"]), data


def run_evaluate(config: EvaluateConfig, *, progress: bool = True) -> dict[str, Any]:
    prepared = config.prepared()
    config = config.resolved(prepared)
    inputs = [input_ref(config.data, prepared)] if prepared else []
    adapter = getattr(config.student, "adapter", None)
    if adapter is not None:
        inputs.append(input_ref(Path(adapter)))
    collection_config = config.as_collection()
    tasks = load_tasks(config.tasks, ids=config.ids, limit=config.limit, max_cells=config.max_cells)
    collection_config.teacher.preflight()
    check_sandbox(config.sandbox)
    seed = config.student.model_dump().get("seed")
    with StageRun(config.out, "evaluate", config=config.model_dump(mode="json"), inputs=inputs, seeds={"student": seed},
                  operational=COLLECT_OPERATIONAL,
                  tracking=config.tracking) as stage:
        run = stage.run
        collection, _ = collect_into(run, collection_config, tasks, progress=progress, stage="evaluate")
        collection.pop("_attempted_now")
        summary = _score(run, tasks, collection)
        stage.finish(metrics={"solved_pass2": summary["solved_pass2"], "solved_pass1": summary["solved_pass1"],
                              "tasks": summary["attempted"], "runnable_share": summary["runnable_share"],
                              "submission_score": summary["submission_score"],
                              **{name: {k: f[k] for k in ("value", "low", "high") if k in f}
                                 for name, f in summary["figures"].items()}},
                     outputs=[ATTEMPTS, "submission.json", "summary.json"],
                     artifacts=[run.file("summary.json"), run.file("submission.json")])
    return summary


def _score(run: RunDir, tasks: list, collection: dict[str, Any]) -> dict[str, Any]:
    records = latest(attempts_from_json(run.read_records(ATTEMPTS)))
    attempted = [t for t in tasks if t.id in records]
    predictions = {t.id: two_attempts(records[t.id], len(t.test)) for t in attempted}
    submission = build_submission(tasks, predictions)
    write_submission(submission, run.file("submission.json"))
    score = score_submission(submission, tasks)
    scores = [score_task(t, records[t.id], predictions[t.id]) for t in attempted]
    programs = [c for r in records.values() for c in r.programs]
    summary = {
        **collection,
        "train_fit": sum(r.train_fit for r in records.values()),
        "programs": len(programs),
        "runnable_share": round(sum(c.train_runnable for c in programs) / len(programs), 4) if programs else 0.0,
        "sized_share": round(sum(bool(c.train_sized) for c in programs) / len(programs), 4) if programs else 0.0,
        "solved_pass2": sum(s.solved for s in scores),
        "solved_pass1": sum(s.solved_first for s in scores),
        "distinct_second_attempts": sum(len(p) > 1 for ps in predictions.values() for p in ps),
        "figures": figures(scores) if scores else {},
        "submission_score": round(score.score, 4) if score.total else None,
        "test_outputs_correct": score.correct,
        "test_outputs": score.total,
        "tasks": [s.as_dict() for s in scores],
    }
    run.write_json("summary.json", summary)
    run.sync()
    return summary
