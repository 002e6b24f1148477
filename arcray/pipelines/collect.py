"""Teacher collection on Ray Data: tasks → an actor pool (each actor holds a teacher) → records.

Each finished task's record is appended to ``RUN_DIR/attempts.jsonl`` as it arrives; re-running
the same command skips every task already recorded. At the end ``distillation_dataset.json``
(the plan's format: solvers with fitness ≥ min_fitness) and ``summary.json`` are (re)written
from every record, resumed ones included.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from arcray.arc.render import RenderConfig
from arcray.arc.sandbox import SandboxConfig, check_sandbox
from arcray.arc.tasks import Task, load_tasks, task_from_json
from arcray.civilization.config import EvolutionConfig
from arcray.errors import ArcrayError
from arcray.llm.config import CacheConfig
from arcray.pipelines.progress import Progress
from arcray.runtime.ray_setup import forwarded_env
from arcray.runtime.rundir import RunDir, keyed
from arcray.pipelines.teachers import build_teacher, preflight_teacher, validate_teacher
from arcray.validation import build_config

ATTEMPTS = "attempts.jsonl"
DATASET = "distillation_dataset.json"
DATASET_FIELDS = ("task_id", "analyst_spec", "solver_code", "fitness", "train_correct", "test_correct")


class CollectConfig(BaseModel):
    """Everything `arcray collect` needs, validated before Ray starts."""

    model_config = ConfigDict(extra="forbid")

    tasks: str = Field(description="task source: a bundled set, a Kaggle file or a folder")
    ids: list[str] | None = Field(None, description="only these task ids")
    limit: int | None = Field(None, ge=0, description="only the first N tasks")
    teacher: dict[str, Any] = Field(description="{backend: gemini|hf|search, model: …, …}")
    evolution: EvolutionConfig = EvolutionConfig()
    sandbox: SandboxConfig = SandboxConfig()
    render: RenderConfig = RenderConfig()
    cache: CacheConfig = CacheConfig()
    min_fitness: float = Field(1.0, ge=0, description="solvers at or above this fitness enter the dataset")
    retry_failed: bool = Field(False, description="attempt again the tasks whose teacher failed for good on an earlier run "
                               "(tasks that failed for an internal reason are always attempted again)")
    concurrency: int = Field(4, ge=1, le=4096, description="actors working on tasks at once")
    tasks_per_actor: int = Field(
        1, ge=1, le=64, description="tasks one actor works on at once, in threads (API teachers wait on the network; "
        "local-model teachers want 1)")
    num_cpus_per_actor: float = Field(0.25, gt=0, description="CPUs reserved per actor (API teachers need little)")
    num_gpus_per_actor: float = Field(0.0, ge=0, description="GPUs per actor (local-model teachers on a cluster)")
    out: str = Field(description="run directory: a path (local or NFS) or a storage URI (s3://…, gs://…)")

    @field_validator("out", mode="before")
    @classmethod
    def _out_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, os.PathLike) else value

    @field_validator("teacher")
    @classmethod
    def _teacher(cls, value: dict[str, Any]) -> dict[str, Any]:
        return validate_teacher(value)

    @classmethod
    def build(cls, **fields: Any) -> "CollectConfig":
        """Validate, turning pydantic's report into one line naming the field to fix."""
        return build_config(cls, "collect config", **fields)


class ArcCollector:
    """A Ray Data actor (named so in the dashboard): builds its teacher once, then attempts one task per call."""

    def __init__(self, config_json: str, run_id: str, env: dict[str, str]) -> None:
        os.environ.update(env)  # the driver's keys, through the actor's constructor (see forwarded_env)
        config = CollectConfig.model_validate_json(config_json)
        self.teacher = build_teacher(config.teacher, evolution=config.evolution, sandbox=config.sandbox,
                                     render=config.render, cache=config.cache, run_id=run_id)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        records = []
        for task_id, task_json in zip(batch["task_id"], batch["task"]):
            started = time.perf_counter()
            try:
                record = self.teacher.attempt(task_from_json(str(task_id), json.loads(task_json)))
            except Exception as error:  # a sandbox or teacher crash fails this task, not the run; the next run retries it
                record = failed_record(str(task_id), f"{type(error).__name__}: {error}", time.perf_counter() - started)
            records.append(json.dumps(record, default=str))
        return {"record": records}


class ArcStudentEvaluator(ArcCollector):
    """The same actor when the "teacher" is the student under evaluation (its own name in the dashboard)."""


def actor_pool(actors: int, tasks_per_actor: int, items: int):
    """A fixed pool; each actor takes ``tasks_per_actor`` tasks at once (threads) and queues none."""
    import ray

    size = max(1, min(actors, -(-items // tasks_per_actor)))
    if tasks_per_actor == 1:
        return ray.data.ActorPoolStrategy(size=size, max_tasks_in_flight_per_actor=1)
    return ray.data.ActorPoolStrategy(
        size=size, max_tasks_in_flight_per_actor=tasks_per_actor,
        max_concurrent_calls_per_actor=tasks_per_actor, enable_true_multi_threading=True,
    )


INTERNAL = "internal"  # the platform failed (actor death, sandbox crash, out of memory): always retried
TEACHER = "teacher"  # the teacher failed for good (HTTP 400, retries exhausted): retried with retry_failed


def failed_record(task_id: str, reason: str, wall_s: float = 0.0) -> dict[str, Any]:
    return {"task_id": task_id, "fitness": 0.0, "train_correct": 0, "test_correct": 0, "analyst_spec": "",
            "solver_code": None, "test_outputs": [], "generations": [], "usage": {}, "error": reason,
            "failure": INTERNAL, "wall_s": round(wall_s, 3)}


def failure_kind(record: dict[str, Any]) -> str | None:
    """INTERNAL, TEACHER or None (a finished attempt, solved or not)."""
    if record.get("failure") in (INTERNAL, TEACHER):
        return record["failure"]
    return TEACHER if record.get("error") else None


def settled(records: list[dict[str, Any]], *, retry_failed: bool) -> dict[str, dict[str, Any]]:
    """The latest record of each task that needs no new attempt."""
    retry = {INTERNAL, TEACHER} if retry_failed else {INTERNAL}
    return {task_id: r for task_id, r in keyed(records, "task_id").items() if failure_kind(r) not in retry}


def run_collect(config: CollectConfig, *, progress: bool = True, stage: str = "collect") -> dict[str, Any]:
    """Collect (or resume collecting) into ``config.out``; returns the summary."""
    preflight_teacher(config.teacher)
    tasks = load_tasks(config.tasks, ids=config.ids, limit=config.limit)
    check_sandbox(config.sandbox)  # every attempt runs solvers: one line now where they cannot be confined
    run = RunDir(config.out)
    run.write_config(config.model_dump(mode="json"))
    done = settled(run.resume_records(ATTEMPTS), retry_failed=config.retry_failed)
    wanted = {t.id for t in tasks}
    pending = [t for t in tasks if t.id not in done]
    started = time.perf_counter()
    if pending:
        _attempt_on_ray(config, pending, run, done, total=len(tasks), progress=progress, stage=stage)
    records = [done[t.id] for t in tasks if t.id in done]
    summary = summarize(records, config.min_fitness, wall_s=time.perf_counter() - started, requested=len(wanted))
    dataset = [{k: r.get(k) for k in DATASET_FIELDS} for r in records
               if r.get("solver_code") and r.get("fitness", 0) >= config.min_fitness]
    run.write_json(DATASET, dataset)
    run.write_json("summary.json", summary)
    run.sync()
    return summary


def _attempt_on_ray(config: CollectConfig, pending: list[Task], run: RunDir, done: dict, *, total: int, progress: bool,
                    stage: str) -> None:
    import ray

    from arcray.runtime.ray_setup import ensure_ray

    ensure_ray()
    items = [{"task_id": t.id, "task": json.dumps(t.to_json())} for t in pending]
    dataset = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
        ArcStudentEvaluator if stage == "evaluate" else ArcCollector,
        batch_size=1,
        compute=actor_pool(config.concurrency, config.tasks_per_actor, len(items)),
        fn_constructor_kwargs={"config_json": config.model_dump_json(), "run_id": f"{stage}-{uuid.uuid4().hex[:8]}",
                               "env": forwarded_env()},
        num_cpus=config.num_cpus_per_actor,
        num_gpus=config.num_gpus_per_actor or None,
    )
    solved = sum(_solved(r) for r in done.values())
    tokens = sum((r.get("usage") or {}).get("total_tokens", 0) for r in done.values())
    with run.appender(ATTEMPTS) as attempts, Progress(stage=stage, run=run.path.name, total=total, done=total - len(pending),
                                                      enabled=progress, solved=solved, tokens=tokens) as bar:
        try:
            for row in dataset.iter_rows():
                record = json.loads(row["record"])
                if record["task_id"] in done:
                    continue  # never write a task twice
                attempts.append(record)
                done[record["task_id"]] = record
                bar.advance(solved=int(_solved(record)), tokens=(record.get("usage") or {}).get("total_tokens", 0))
                run.sync(force=False)
        except Exception as error:  # Ray gave up on a task or an actor: what was recorded stays
            raise ArcrayError(
                f"{stage} stopped ({type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else 'no detail'}); "
                f"the {len(done)} task(s) recorded in {run.file(ATTEMPTS)} are kept: re-run the same command to resume"
            ) from None


def _solved(record: dict[str, Any]) -> bool:
    """Every known test output right (not merely the train pairs)."""
    total = record.get("test_total")
    return bool(record.get("solver_code")) and bool(total) and record.get("test_correct", 0) == total


def summarize(records: list[dict[str, Any]], min_fitness: float, *, wall_s: float, requested: int) -> dict[str, Any]:
    usage = Counter()
    cost = 0.0
    for r in records:
        for key in ("prompt_tokens", "completion_tokens", "total_tokens", "requests"):
            usage[key] += (r.get("usage") or {}).get(key, 0) or 0
        cost += (r.get("usage") or {}).get("estimated_cost_usd") or 0.0
    fitness = [float(r.get("fitness") or 0) for r in records]
    solved = sum(_solved(r) for r in records)
    train_fit = sum(bool(r.get("solver_code")) and r.get("train_total") and r.get("train_correct") == r.get("train_total") for r in records)
    return {
        "requested": requested,
        "attempted": len(records),
        "solved": solved,
        "solved_share": round(solved / len(records), 4) if records else 0.0,
        "train_fit": train_fit,
        "in_dataset": sum(bool(r.get("solver_code")) and (r.get("fitness") or 0) >= min_fitness for r in records),
        "failed": sum(bool(r.get("error")) for r in records),
        "fitness": {
            "mean": round(sum(fitness) / len(fitness), 3) if fitness else 0.0,
            "max": max(fitness, default=0.0),
            "histogram": dict(sorted(Counter(_bucket(f) for f in fitness).items())),
        },
        "usage": dict(usage),
        "estimated_cost_usd": round(cost, 4),
        "wall_s": round(wall_s, 2),
    }


def _bucket(fitness: float) -> str:
    if fitness == 0:
        return "0"
    if fitness < 10:
        return "1-9 (train only)"
    return "10+ (test solved)"
