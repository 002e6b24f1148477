"""Student evaluation on ARC: the evolution loop with the student as the backend, on Ray Data.

Same machinery as collection (resumable ``attempts.jsonl``, every completion's raw text kept),
but selection uses the train pairs only, so test outputs never steer it: with one generation of
``population`` programs this is "k sampled programs, the best two by the train pairs". Then
``submission.json`` (ARC Prize format, two distinct attempts per test input where two programs
give different grids) is written and scored where solutions exist; ``summary.json`` carries each
figure with its 95% bootstrap interval over tasks and every task's own score.
"""

from __future__ import annotations

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
from arcray.pipelines.collect import ATTEMPTS, CollectConfig, run_collect
from arcray.runtime.rundir import RunDir
from arcray.validation import RunOut, build_config

STUDENT_EVOLUTION = EvolutionConfig(max_generations=3, population=2, use_analyst=False, select_by="train",
                                    max_new_tokens=768)


class EvaluateConfig(BaseModel):
    """`arcray evaluate`: which student, on which tasks, how hard it may try."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    student: AnyBackendConfig = Field(description="{backend: hf, model: NAME_OR_DIR, adapter: DIR, …}")
    tasks: str
    ids: list[str] | None = None
    limit: int | None = Field(None, ge=0)
    max_cells: int | None = Field(None, ge=1, description="only tasks whose prompt shows at most this many grid cells")
    evolution: EvolutionConfig = STUDENT_EVOLUTION
    sandbox: SandboxConfig = SandboxConfig()
    render: RenderConfig = RenderConfig()
    cache: CacheConfig = CacheConfig()
    concurrency: int = Field(1, ge=1, description="model replicas (actors)")
    tasks_per_actor: int = Field(1, ge=1, le=64, description="tasks one replica works on at once; their generate "
                                 "calls are merged into batched engine calls (throughput follows what is in flight)")
    num_cpus_per_actor: float = Field(1.0, gt=0)
    num_gpus_per_actor: float = Field(0.0, ge=0)
    out: RunOut = Field(description="run directory: a path or a storage URI")

    @model_validator(mode="after")
    def _exemplars_have_a_pool(self) -> "EvaluateConfig":
        if self.render.exemplars and not self.render.exemplar_pool:
            raise ValueError(f"render.exemplars is {self.render.exemplars} but there is no pool to draw them from: pass "
                             "--exemplar-pool DATA/exemplars.json (written by the `arcray prepare` the student was trained on)")
        return self

    @classmethod
    def build(cls, **fields: Any) -> "EvaluateConfig":
        return build_config(cls, "evaluate config", **fields)

    def as_collection(self) -> CollectConfig:
        return CollectConfig.build(
            tasks=self.tasks, ids=self.ids, limit=self.limit, max_cells=self.max_cells, teacher=self.student, evolution=self.evolution,
            sandbox=self.sandbox, render=self.render, cache=self.cache, concurrency=self.concurrency,
            tasks_per_actor=self.tasks_per_actor,
            num_cpus_per_actor=self.num_cpus_per_actor, num_gpus_per_actor=self.num_gpus_per_actor, out=self.out,
        )


def run_evaluate(config: EvaluateConfig, *, progress: bool = True) -> dict[str, Any]:
    collection = run_collect(config.as_collection(), progress=progress, stage="evaluate")
    run = RunDir(config.out)
    tasks = load_tasks(config.tasks, ids=config.ids, limit=config.limit, max_cells=config.max_cells)
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
