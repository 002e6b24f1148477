"""Teacher collection on Ray Data: tasks → an actor pool (each actor holds a teacher) → records.

Each finished task's record is appended to ``RUN_DIR/attempts.jsonl`` as it arrives; re-running
the same command skips every task already recorded. At the end ``distillation_dataset.json``
(the plan's format: solvers with fitness ≥ min_fitness) and ``summary.json`` are (re)written
from every record, resumed ones included.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections import Counter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from arcray.arc.attempt import ATTEMPTS, ENDPOINT, INTERNAL, MIN_FITNESS, TEACHER, Attempt, attempts_from_json, latest
from arcray.arc.render import RenderConfig
from arcray.arc.sandbox import SandboxConfig, check_sandbox
from arcray.arc.tasks import Task, load_tasks, task_from_json
from arcray.civilization.config import EvolutionConfig
from arcray.errors import ArcrayError
from arcray.llm.config import CacheConfig
from arcray.llm.registry import grammar_backends
from arcray.runtime.memory import actor_memory, check_fits
from arcray.runtime.progress import Progress
from arcray.runtime.resumable import append_each_once
from arcray.runtime.ray_setup import forwarded_env
from arcray.runtime.rundir import RunDir
from arcray.runtime.stage import StageRun
from arcray.tracking import TrackingConfig
from arcray.pipelines.teachers import TeacherConfig, build_teacher
from arcray.validation import RunOut, build_config

DATASET = "distillation_dataset.json"
DATASET_FIELDS = ("task_id", "analyst_spec", "solver_code", "fitness", "train_correct", "test_correct")


class CollectConfig(BaseModel):
    """Everything `arcray collect` needs, validated before Ray starts."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    tasks: str = Field(description="task source: a bundled set, a Kaggle file or a folder")
    ids: list[str] | None = Field(None, description="only these task ids")
    limit: int | None = Field(None, ge=0, description="only the first N tasks")
    max_cells: int | None = Field(None, ge=1, description="only tasks whose prompt shows at most this many grid cells "
                                  "(train pairs and test inputs): about its tokens, for a small model's budget")
    teacher: TeacherConfig = Field(description="{backend: gemini|hf|search, model: …, …}")
    evolution: EvolutionConfig = EvolutionConfig()
    sandbox: SandboxConfig = SandboxConfig()
    render: RenderConfig = RenderConfig()
    cache: CacheConfig = CacheConfig()
    min_fitness: float = Field(MIN_FITNESS, ge=0, description="solvers at or above this fitness enter the dataset")
    retry_failed: bool = Field(False, description="attempt again the tasks whose teacher failed for good on an earlier run "
                               "(tasks that failed for an internal reason are always attempted again)")
    concurrency: int = Field(4, ge=1, le=4096, description="actors working on tasks at once")
    tasks_per_actor: int = Field(
        1, ge=1, le=64, description="tasks one actor works on at once, in threads (API teachers wait on the network; "
        "a local model's calls from all of them are merged into batched engine calls)")
    num_cpus_per_actor: float = Field(0.25, gt=0, description="CPUs reserved per actor (API teachers need little)")
    num_gpus_per_actor: float = Field(0.0, ge=0, description="GPUs per actor (local-model teachers on a cluster)")
    memory_gib_per_actor: float | None = Field(
        None, gt=0, le=4096, description="memory (GiB) each actor asks Ray for, so a node takes no more actors than it "
        "holds; None: the peak measured for the backend (arcray/runtime/memory.py)")
    on_ray: bool = Field(True, description="false: attempt the tasks in this process, in tasks_per_actor threads, "
                         "without Ray (a Kaggle notebook); the same teacher, records and resume")
    budget_s: float | None = Field(None, gt=0, description="in this process only: start no task after this many "
                                   "seconds (a notebook's time limit); a task not started gets no record, and says so")
    out: RunOut = Field(description="run directory: a path (local or NFS) or a storage URI (s3://…, gs://…)")
    tracking: TrackingConfig = Field(default_factory=TrackingConfig, description="where the run's params, metrics and artifacts are logged")

    @model_validator(mode="after")
    def _budget_is_for_a_process(self) -> "CollectConfig":
        check_budget(self.budget_s, self.on_ray)
        return self

    @model_validator(mode="after")
    def _grammar_needs_a_local_model(self) -> "CollectConfig":
        if self.evolution.grammar is None:
            return self
        local = grammar_backends()
        if self.teacher.backend not in local:
            raise ValueError(
                f"evolution.grammar {self.evolution.grammar!r} keeps a local model's answers to the grammar; the "
                f"{self.teacher.backend} backend cannot: use backend {' or '.join(local)}, or grammar: null"
            )
        return self

    @classmethod
    def build(cls, **fields: Any) -> "CollectConfig":
        """Validate, turning pydantic's report into one line naming the field to fix."""
        return build_config(cls, "collect config", **fields)


def check_budget(budget_s: float | None, on_ray: bool) -> None:
    """``budget_s`` only where the tasks run in this process (collection's and evaluation's configs alike)."""
    if budget_s is not None and on_ray:
        raise ValueError("budget_s bounds a run in this process (on_ray: false), such as a Kaggle notebook's; "
                         "drop it, or set on_ray: false")


class ArcCollector:
    """A Ray Data actor (named so in the dashboard): builds its teacher once, then attempts one task per call."""

    def __init__(self, config_json: str, run_id: str, env: dict[str, str]) -> None:
        os.environ.update(env)  # the driver's keys, through the actor's constructor (see forwarded_env)
        config = CollectConfig.model_validate_json(config_json)
        self.teacher = build_teacher(config.teacher, evolution=config.evolution, sandbox=config.sandbox,
                                     render=config.render, cache=config.cache, run_id=run_id,
                                     callers=config.tasks_per_actor)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        records = []
        for task_id, task_json in zip(batch["task_id"], batch["task"]):
            started = time.perf_counter()
            try:
                record = self.teacher.attempt(task_from_json(str(task_id), json.loads(task_json)))
            except Exception as error:  # a sandbox or teacher crash fails this task, not the run; the next run retries it
                record = Attempt.failed(str(task_id), f"{type(error).__name__}: {error}", time.perf_counter() - started)
            records.append(record.model_dump_json())
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


def settled(attempts: list[Attempt], *, retry_failed: bool) -> dict[str, Attempt]:
    """The latest attempt of each task that needs no new attempt."""
    retry = {INTERNAL, ENDPOINT, TEACHER} if retry_failed else {INTERNAL, ENDPOINT}
    return {task_id: a for task_id, a in latest(attempts).items() if a.failure_kind not in retry}


# What may change between runs into one collection folder: how it is computed, never what.
# min_fitness re-selects the exported dataset from the same attempts; ids, limit and max_cells choose which tasks of
# the same source are attempted (a run may grow), never how one is attempted.
COLLECT_OPERATIONAL = ("min_fitness", "ids", "limit", "max_cells")


def run_collect(config: CollectConfig, *, progress: bool = True) -> dict[str, Any]:
    """Collect (or resume collecting) into ``config.out``, a ``collect`` run; returns the summary."""
    config.teacher.preflight()
    tasks = load_tasks(config.tasks, ids=config.ids, limit=config.limit, max_cells=config.max_cells)
    check_sandbox(config.sandbox)  # every attempt runs solvers: one line now where they cannot be confined
    with StageRun(config.out, "collect", config=config.model_dump(mode="json"), operational=COLLECT_OPERATIONAL,
                  seeds={"teacher": config.teacher.model_dump().get("seed")}, tracking=config.tracking) as stage:
        summary, records = collect_into(stage.run, config, tasks, progress=progress, stage="collect")
        stage.finish(metrics={k: summary[k] for k in ("requested", "attempted", "solved", "solved_share", "in_dataset",
                                                      "failed", "estimated_cost_usd")},
                     outputs=[ATTEMPTS, DATASET, "summary.json"],
                     exports={"tasks": config.tasks, "min_fitness": config.min_fitness,
                              "solved_ids": sorted(r.task_id for r in records if r.solved),
                              "verified_ids": sorted(r.task_id for r in records if r.verified(config.min_fitness))},
                     artifacts=[stage.run.file("summary.json")])
    _refuse_if_nothing_was_reached(summary.pop("_attempted_now"))
    return summary


def collect_into(run: RunDir, config: CollectConfig, tasks: list[Task], *, progress: bool, stage: str
                 ) -> tuple[dict[str, Any], list[Attempt]]:
    """Attempt every task not yet settled in ``run`` (collect, or a student's evaluation); the summary and the records."""
    run.write_config(config.model_dump(mode="json"))
    done = settled(attempts_from_json(run.resume_records(ATTEMPTS)), retry_failed=config.retry_failed)
    wanted = {t.id for t in tasks}
    pending = [t for t in tasks if t.id not in done]
    started = time.perf_counter()
    if pending:
        attempt = _attempt_on_ray if config.on_ray else _attempt_in_process
        attempt(config, pending, run, done, total=len(tasks), progress=progress, stage=stage)
    records = [done[t.id] for t in tasks if t.id in done]
    dataset = [r for r in records if r.verified(config.min_fitness)]
    summary = summarize(records, len(dataset), wall_s=time.perf_counter() - started, requested=len(wanted))
    run.write_json(DATASET, [exported(r) for r in dataset])
    run.write_json("summary.json", summary)
    run.sync()
    summary["_attempted_now"] = [done[t.id] for t in pending if t.id in done]
    return summary, records


def _refuse_if_nothing_was_reached(attempted: list[Attempt]) -> None:
    """A run in which no call reached the endpoint (refused, DNS, TLS, a quota's long wait) learned nothing:
    one line naming the endpoint, exit code 2; its tasks are left for the next run, which retries them."""
    if attempted and all(a.failure_kind == ENDPOINT for a in attempted):
        reason = (attempted[0].error or "").removeprefix("teacher: ")
        raise ArcrayError(f"no teacher call of this run was served: {reason[:300]}; the {len(attempted)} task(s) are "
                          "recorded as not attempted and the next run retries them: check the endpoint's address "
                          "(GOOGLE_GEMINI_BASE_URL, base_url), the network or the quota, then re-run the same command")


def _attempt_on_ray(config: CollectConfig, pending: list[Task], run: RunDir, done: dict, *, total: int, progress: bool,
                    stage: str) -> None:
    import ray

    from arcray.runtime.ray_setup import ensure_ray

    ensure_ray()
    memory = actor_memory(config.teacher.backend, config.memory_gib_per_actor)
    check_fits(memory, f"{config.teacher.backend} actor", "memory_gib_per_actor")
    items = [{"task_id": t.id, "task": json.dumps(t.to_json())} for t in pending]
    dataset = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
        ArcStudentEvaluator if stage == "evaluate" else ArcCollector,
        batch_size=1,
        compute=actor_pool(config.concurrency, config.tasks_per_actor, len(items)),
        fn_constructor_kwargs={"config_json": config.model_dump_json(), "run_id": f"{stage}-{uuid.uuid4().hex[:8]}",
                               "env": forwarded_env()},
        num_cpus=config.num_cpus_per_actor,
        num_gpus=config.num_gpus_per_actor or None,
        memory=memory,
    )
    _append(dataset.iter_rows(), run, done, total=total, pending=len(pending), progress=progress, stage=stage)


def _append(rows, run: RunDir, done: dict, *, total: int, pending: int, progress: bool, stage: str) -> None:
    """Each record row appended once to ATTEMPTS as it comes, with the stage's progress line (both paths)."""
    bar = Progress(stage=stage, run=run.path.name, total=total, done=total - pending, unit="task", enabled=progress,
                   solved=sum(a.solved for a in done.values()), tokens=sum(a.tokens for a in done.values()))
    append_each_once(rows, run=run, records=ATTEMPTS, done=done, progress=bar,
                     parse=lambda row: Attempt.model_validate_json(row["record"]), key=lambda record: record.task_id,
                     tally=lambda record: {"solved": int(record.solved), "tokens": record.tokens})


def _attempt_in_process(config: CollectConfig, pending: list[Task], run: RunDir, done: dict, *, total: int,
                        progress: bool, stage: str) -> None:
    """The Ray path's actor, made once here and called from ``tasks_per_actor`` threads: its model's calls are merged
    into batched engine calls as on Ray, and the records are appended in task order (the file the same every run,
whichever thread finishes first). Tasks not started within
    ``budget_s`` are left without a record (a later run, or the submission's fallback, takes them)."""
    from concurrent.futures import ThreadPoolExecutor

    deadline = None if config.budget_s is None else time.monotonic() + config.budget_s
    actor = ArcCollector(config.model_dump_json(), f"{stage}-{uuid.uuid4().hex[:8]}", forwarded_env())
    skipped: list[str] = []

    def attempt(task: Task) -> list[dict[str, str]]:
        if deadline is not None and time.monotonic() > deadline:
            skipped.append(task.id)
            return []
        batch = actor({"task_id": [task.id], "task": [json.dumps(task.to_json())]})
        return [{"record": record} for record in batch["record"]]

    def rows():
        with ThreadPoolExecutor(max_workers=config.tasks_per_actor, thread_name_prefix=stage) as pool:
            for finished in pool.map(attempt, pending):
                yield from finished

    try:
        _append(rows(), run, done, total=total, pending=len(pending), progress=progress, stage=stage)
    finally:
        close = getattr(actor.teacher, "close", None)
        if close is not None:
            close()
    if skipped:
        print(f"arcray: the {config.budget_s:g} s budget ran out before {len(skipped)} of {len(pending)} task(s) started "
              f"(first: {skipped[0]}); they have no record. Re-run the same command to attempt them, or raise the budget",
              file=sys.stderr, flush=True)


def exported(record: Attempt) -> dict[str, Any]:
    """A dataset row in the plan's format; a search solver (a few lines over arcdsl) in its standalone
    numpy form, so that tools outside arcray can run it."""
    from arcray.solver.emit import emit_solver
    from arcray.solver.program import parse_program

    row = record.model_dump(mode="json", include=set(DATASET_FIELDS))
    calls = next((c.program for c in record.candidates if c.program and c.code == record.solver_code), None)
    if calls:
        try:
            row["solver_code"] = emit_solver(parse_program(calls), record.analyst_spec or None, form="standalone")
        except ValueError:
            pass  # a program this version's DSL does not know: the library form as recorded
    return row


def summarize(records: list[Attempt], in_dataset: int, *, wall_s: float, requested: int) -> dict[str, Any]:
    usage: Counter[str] = Counter()
    cost = 0.0
    for r in records:
        for key in ("prompt_tokens", "completion_tokens", "total_tokens", "requests"):
            usage[key] += r.usage.get(key, 0) or 0
        cost += r.usage.get("estimated_cost_usd") or 0.0
    fitness = [r.fitness for r in records]
    solved = sum(r.solved for r in records)
    return {
        "requested": requested,
        "attempted": len(records),
        "solved": solved,
        "solved_share": round(solved / len(records), 4) if records else 0.0,
        "train_fit": sum(r.train_fit for r in records),
        "in_dataset": in_dataset,
        "failed": sum(bool(r.error) for r in records),
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
