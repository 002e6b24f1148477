"""Self-consistency sampling on Ray Data: prompts → an actor pool (one model replica each) → records.

Two stages share the pool:

- ``run_consistency``: every prompt sampled ``n`` times at one temperature, put through the filter
  chain (extract → majority vote) and the metrics; ``samples.jsonl`` gets one record per prompt as
  it completes, then ``failures.jsonl``, ``summary.json`` (with the plan's gates) and
  ``report.md`` are (re)written from every record.
- ``run_sc_generate``: every prompt sampled at its category's generate temperature; the same
  ``samples.jsonl``, from which ``sc.jsonl`` (the training records ``arcray prepare`` reads) is
  derived, optionally keeping only answers the majority agrees with.

Re-running a command on the same run directory skips every prompt already recorded. Each actor
holds one model replica (a GPU each when the cluster has GPUs, CPU threads otherwise) and a sandbox
for code; it generates for ``batch_size`` prompts per call, since local generation is batched.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any, Iterable

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from arcray.arc.sandbox import check_sandbox
from arcray.consistency import (
    DEFAULT_GATES,
    DatasetSpec,
    Gate,
    Judge,
    Problem,
    TemperatureTable,
    evaluate_gates,
    failure_reasons,
    format_gates,
    get_category,
    load_problems,
    prompt_record,
    scoreboard,
)
from arcray.errors import ArcrayError
from arcray.consistency.records import (
    FAILURES,
    SAMPLES,
    SC_DATA,
    FailureRecord,
    Sample,
    TrainingRecord,
    samples_from_json,
)
from arcray.llm.config import CacheConfig
from arcray.llm.registry import AnyBackendConfig
from arcray.llm.types import DEFAULT_TEMPERATURE, MaxNewTokens, SampleCount, SamplingParams, Temperature, TopP
from arcray.runtime.memory import actor_memory, check_fits
from arcray.runtime.progress import Progress
from arcray.runtime.ray_setup import forwarded_env, use_cpu_threads
from arcray.runtime.resumable import Failed, append_each_once
from arcray.runtime.manifest import input_ref
from arcray.runtime.rundir import RunDir
from arcray.runtime.stage import StageRun
from arcray.tracking import TrackingConfig
from arcray.validation import build_config



class _SamplingConfig(BaseModel):
    """What both stages need: a model, prompts, generation limits, and how to spread the work."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    student: AnyBackendConfig = Field(description="the model sampled: {backend: hf, model: smollm2-135m, adapter: DIR}")
    dataset: DatasetSpec
    max_new_tokens: MaxNewTokens = Field(384, description="upper bound on tokens per response")
    top_p: TopP = Field(1.0, description="nucleus sampling mass")
    seed: int | None = Field(0, description="sampling seed (per batch of prompts); None: unseeded")
    code_timeout_s: float = Field(5.0, gt=0, le=600, description="wall-clock limit for one code answer's tests")
    cache: CacheConfig = Field(CacheConfig(enabled=False), description="response cache (worth it for API models)")
    concurrency: int = Field(1, ge=1, le=1024, description="model replicas (actors) at once")
    batch_size: int = Field(4, ge=1, le=1024, description="prompts per generate call (each with all its samples)")
    num_cpus_per_actor: float = Field(1.0, gt=0, description="CPUs per actor; on CPU also its torch threads")
    num_gpus_per_actor: float | None = Field(None, ge=0, description="None: 1 when the cluster has GPUs, else 0")
    memory_gib_per_actor: float | None = Field(
        None, gt=0, le=4096, description="memory (GiB) each actor asks Ray for, so a node takes no more actors than it "
        "holds; None: the peak measured for the backend (arcray/runtime/memory.py)")
    pipeline: Literal["actors", "ray-data-llm"] = Field(
        "actors", description="actors: a Ray Data actor pool, one backend each; ray-data-llm: Ray Data LLM's vLLM "
        "engines (a vllm student only)")
    out: Path = Field(description="run directory")
    tracking: TrackingConfig = Field(default_factory=TrackingConfig, description="where the run's params, metrics and artifacts are logged")

    @model_validator(mode="after")
    def _pipeline_fits_student(self) -> _SamplingConfig:
        if self.pipeline == "ray-data-llm" and self.student.backend != "vllm":
            raise ValueError(f"pipeline: ray-data-llm runs vLLM engines; the student's backend is {self.student.backend!r}: "
                             "set student.backend: vllm, or pipeline: actors")
        return self


class ConsistencyConfig(_SamplingConfig):
    """`arcray consistency`: n samples per prompt at one temperature; consistency, ties, accuracy, gates."""

    n: SampleCount = Field(10, description="samples per prompt")
    temperature: Temperature = Field(DEFAULT_TEMPERATURE, description="sampling temperature (the plan's diagnosis)")
    failure_threshold: float = Field(0.30, ge=0.0, le=1.0, description="consistency below this marks a failure")
    gates: list[Gate] = Field(default_factory=lambda: list(DEFAULT_GATES), description="decision gates to judge")

    @classmethod
    def build(cls, **fields: Any) -> ConsistencyConfig:
        return build_config(cls, "consistency config", **fields)


class GenerateConfig(_SamplingConfig):
    """`arcray sc-generate`: responses at each category's generate temperature, as training records."""

    temperatures: TemperatureTable = Field(default_factory=TemperatureTable, description="overrides of the plan's table")
    samples_per_prompt: SampleCount = Field(1, description="responses drawn per prompt (more to vote on)")
    majority_only: bool = Field(False, description="keep only responses whose answer the majority agrees with")
    correct_only: bool = Field(False, description="keep only responses judged correct (where a reference exists)")
    max_per_prompt: int = Field(1, ge=1, description="training records kept per prompt (distinct responses)")

    @classmethod
    def build(cls, **fields: Any) -> GenerateConfig:
        return build_config(cls, "sc-generate config", **fields)


# ---------------------------------------------------------------- stages


SAMPLING_OPERATIONAL = ("batch_size", "pipeline")  # how the prompts are spread over actors, never what is sampled
# Which of the same samples become training records (sc.jsonl is rewritten from them): a re-selection, like collect's min_fitness.
GENERATE_SELECTION = ("majority_only", "correct_only", "max_per_prompt")


def run_consistency(config: ConsistencyConfig, *, progress: bool = True) -> dict[str, Any]:
    """Sample (or resume sampling) into ``config.out``, a ``measure`` run; returns the summary."""
    problems = _prepare(config)
    with StageRun(config.out, "measure", config=config.model_dump(mode="json"), operational=SAMPLING_OPERATIONAL,
                  inputs=_inputs(config), seeds={"sampling": config.seed}, tracking=config.tracking) as stage:
        summary = _measure(config, problems, progress=progress)
        stage.finish(metrics={"prompts": summary["prompts"], "temperature": config.temperature,
                              **{k: v for k, v in summary["metrics"].items() if isinstance(v, (int, float))},
                              "gates_passed": sum(bool(g.get("passed")) for g in summary["gates"])},
                     outputs=[SAMPLES, FAILURES, "summary.json", "report.md"],
                     artifacts=[stage.run.file("report.md"), stage.run.file("summary.json")])
    return summary


def _measure(config: ConsistencyConfig, problems: list[Problem], *, progress: bool) -> dict[str, Any]:
    sampling = _sampling(config, n=config.n, temperature=config.temperature)
    records, errors, wall_s = _sample_all(config, problems, lambda p: sampling, progress=progress)
    run = RunDir(config.out)
    failures = [failure_record(r, config.failure_threshold) for r in records]
    _rewrite_jsonl(run, FAILURES, [f for f in failures if f.reasons])
    board = scoreboard((r.category, r.metrics) for r in records)
    gates = evaluate_gates(board, config.gates)
    summary = {
        **_run_head(config, records, problems, errors),
        "n": config.n,
        "temperature": config.temperature,
        "metrics": board["all"],
        "by_category": {k: v for k, v in board.items() if k != "all"},
        "failures": sum(bool(f.reasons) for f in failures),
        "failure_threshold": config.failure_threshold,
        "gates": [g.to_dict() for g in gates],
        "completion_tokens": _tokens(records),
        "wall_s": round(wall_s, 2),
    }
    run.write_json("summary.json", summary)
    (run.file("report.md")).write_text(report(summary, format_gates(gates)))
    return summary


def run_sc_generate(config: GenerateConfig, *, progress: bool = True) -> dict[str, Any]:
    """Generate (or resume generating) training responses into ``config.out``, a ``generate`` run; returns the summary."""
    problems = _prepare(config)
    with StageRun(config.out, "generate", config=config.model_dump(mode="json"),
                  operational=SAMPLING_OPERATIONAL + GENERATE_SELECTION,
                  inputs=_inputs(config), seeds={"sampling": config.seed}, tracking=config.tracking) as stage:
        summary = _generate(config, problems, progress=progress)
        stage.finish(metrics={k: summary[k] for k in ("prompts", "records", "completion_tokens") if k in summary},
                     outputs=[SAMPLES, SC_DATA, "summary.json"], exports={"records": SC_DATA},
                     artifacts=[stage.run.file("summary.json")])
    return summary


def _inputs(config: _SamplingConfig) -> list[Any]:
    """The local files a sampling stage reads (a JSONL dataset, say), each by its hash."""
    source = getattr(config.dataset, "path", None)
    return [input_ref(Path(source))] if source and Path(source).is_file() else []


def _generate(config: GenerateConfig, problems: list[Problem], *, progress: bool) -> dict[str, Any]:
    by_category = {c: _sampling(config, n=config.samples_per_prompt, temperature=config.temperatures[c].generate)
                   for c in {p.category for p in problems}}
    records, errors, wall_s = _sample_all(config, problems, lambda p: by_category[p.category], progress=progress)
    kept, dropped = [], Counter()
    for record in records:
        chosen, reasons = training_records(record, config)
        kept.extend(chosen)
        dropped.update(reasons)
    _rewrite_jsonl(RunDir(config.out), SC_DATA, kept)
    summary = {
        **_run_head(config, records, problems, errors),
        "records": len(kept),
        "by_category": dict(Counter(r.category for r in kept)),
        "prompts_without_record": dict(dropped),
        "temperatures": {c: config.temperatures[c].model_dump() for c in sorted(by_category)},
        "completion_tokens": _tokens(records),
        "wall_s": round(wall_s, 2),
    }
    RunDir(config.out).write_json("summary.json", summary)
    return summary


def _run_head(config: _SamplingConfig, records: list[Sample], problems: list[Problem], errors: int) -> dict[str, Any]:
    """What both stages' summaries start with: who was sampled, on what, how much of it."""
    return {
        "student": config.student.model_dump(mode="json"),
        "dataset": config.dataset.source,
        "prompts": len(records),
        "requested": len(problems),
        "errors": errors,  # prompts that failed to generate this time: re-run to retry them
    }


# ---------------------------------------------------------------- records


def failure_record(record: Sample, threshold: float) -> FailureRecord:
    """A prompt's failures.jsonl line: why it failed, its numbers, and its problem (for sc-generate --from)."""
    return FailureRecord(id=record.id, category=record.category, reasons=failure_reasons(record.metrics, threshold),
                         metrics=record.metrics, majority=record.majority, problem=record.problem)


def training_records(record: Sample, config: GenerateConfig) -> tuple[list[TrainingRecord], list[str]]:
    """The sc.jsonl lines one prompt yields, or the reason it yields none."""
    problem = Problem.from_record(record.problem)
    temperatures = config.temperatures[problem.category]
    kept: list[TrainingRecord] = []
    seen, reasons = set(), []
    for response, answer in zip(record.responses, record.answers):
        text = response.text
        agrees = answer.key is not None and answer.key == record.majority
        if response.error or not text or not text.strip():
            reasons.append("no response")
        elif config.majority_only and not agrees:
            reasons.append("not the majority answer")
        elif config.correct_only and answer.correct is False:
            reasons.append("wrong answer")
        elif text.strip() in seen:
            continue
        else:
            seen.add(text.strip())
            kept.append(TrainingRecord(
                id=f"{problem.id}#{len(kept)}", prompt=problem.prompt, response=text,
                category=problem.category, generate_temperature=temperatures.generate,
                train_temperature=temperatures.train, source=problem.source or "",
                majority_agrees=agrees, answer=answer.key, correct=answer.correct,
            ))
            if len(kept) == config.max_per_prompt:
                break
    return kept, ([] if kept else [reasons[0] if reasons else "no response"])


def report(summary: dict[str, Any], gates_text: str) -> str:
    """The run's summary for people (report.md)."""
    lines = [f"# Self-consistency: {summary['student'].get('model')} on {summary['dataset']}", "",
             f"{summary['prompts']} prompts x {summary['n']} samples at T={summary['temperature']}", "",
             "| scope | consistency | distinct responses | distinct answers | tie rate | accuracy | maj@n |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for scope, values in [("all", summary["metrics"]), *summary["by_category"].items()]:
        cells = [_cell(values.get(k)) for k in
                 ("consistency", "distinct_responses", "distinct_answers", "tie_rate", "accuracy", "maj_accuracy")]
        lines.append(f"| {scope} | " + " | ".join(cells) + " |")
    lines += ["", f"failures (wrong or consistency < {summary['failure_threshold']}): {summary['failures']} "
              f"(failures.jsonl)", "", "```", gates_text, "```", ""]
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _tokens(records: Iterable[Sample]) -> int:
    return sum(record.completion_tokens for record in records)


def _rewrite_jsonl(run: RunDir, name: str, records: list[FailureRecord] | list[TrainingRecord]) -> None:
    """A derived file, rewritten whole and atomically from samples.jsonl."""
    run.write_text(name, "".join(record.model_dump_json() + "\n" for record in records))


# ---------------------------------------------------------------- the Ray Data job


def _prepare(config: _SamplingConfig) -> list[Problem]:
    """Everything that can fail before Ray starts: the dataset loads, the model resolves."""
    config.student.preflight()
    problems = load_problems(config.dataset)
    if not problems:
        raise ArcrayError(f"dataset {config.dataset.source!r} selects no problems; check --offset and --limit")
    if any(get_category(p.category).needs_sandbox for p in problems):
        check_sandbox()  # CODE answers run in the sandbox: one line now where it cannot confine them
    return problems


RECORDED = {"n", "temperature", "top_p", "max_new_tokens", "seed"}  # what a sample's "sampling" keeps


def _sampling(config: _SamplingConfig, *, n: int, temperature: float) -> SamplingParams:
    """The stage's SamplingParams, validated here in the driver (before Ray starts)."""
    return build_config(SamplingParams, "sampling", n=n, temperature=temperature, top_p=config.top_p,
                        max_new_tokens=config.max_new_tokens, seed=config.seed)


def _recorded(params: SamplingParams) -> dict[str, Any]:
    return params.model_dump(include=RECORDED)


def _sample_all(config: _SamplingConfig, problems: list[Problem], sampling_for, *,
                progress: bool) -> tuple[list[Sample], int, float]:
    """Every problem's record (resumed ones included), how many failed this time, and the wall time."""
    run = RunDir(config.out)
    done = {s.id: s for s in samples_from_json(run.resume_records(SAMPLES), where=str(run.file(SAMPLES)))}
    for problem in problems:
        earlier, wanted = done.get(problem.id), _recorded(sampling_for(problem))
        if earlier is not None and earlier.sampling != wanted:
            raise ArcrayError(f"{run.file(SAMPLES)} holds {problem.id} sampled with {earlier.sampling}, not "
                              f"{wanted}; pass another --out or the earlier settings")
    run.write_config(config.model_dump(mode="json"))
    pending = [p for p in problems if p.id not in done]
    started, errors = time.perf_counter(), 0
    if pending:
        bar = Progress(stage="sc-generate" if isinstance(config, GenerateConfig) else "consistency", run=run.path.name,
                       total=len(problems), done=len(problems) - len(pending), unit="prompt", enabled=progress,
                       tokens=_tokens(done.values()))
        # both pipelines append the same records the same way: they only bring the rows and how to read one
        append = partial(append_each_once, run=run, records=SAMPLES, done=done, progress=bar, key=lambda s: s.id,
                         tally=lambda s: {"tokens": s.completion_tokens},
                         latest=lambda s: {"consistency": round(s.metrics.get("consistency") or 0.0, 2)})
        if config.pipeline == "ray-data-llm":
            from arcray.pipelines.ray_data_llm import sample_on_ray_data_llm

            errors = sample_on_ray_data_llm(config, pending, sampling_for, done, append=append, recorded=_recorded)
        else:
            errors = _sample_on_ray(config, pending, sampling_for, append=append)
    return [done[p.id] for p in problems if p.id in done], errors, time.perf_counter() - started


class _SamplerActor:
    """A Ray Data actor: one model replica and one judge; samples and scores a batch of prompts per call."""

    def __init__(self, student: dict[str, Any], cache: dict[str, Any], code_timeout_s: float, num_cpus: float,
                 run_id: str, env: dict[str, str]) -> None:
        os.environ.update(env)  # the driver's keys, through the actor's constructor (see forwarded_env)
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no loading bars in every actor's log
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        use_cpu_threads(num_cpus)
        from arcray.llm import get_backend

        self.backend = get_backend(student, cache=CacheConfig(**cache), run_id=run_id)
        self.judge = Judge(code_timeout_s=code_timeout_s)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        problems = [Problem.from_record(json.loads(text)) for text in batch["problem"]]
        groups: dict[str, list[Problem]] = {}
        for problem, sampling in zip(problems, batch["sampling"]):
            groups.setdefault(str(sampling), []).append(problem)
        records: dict[str, str] = {}
        for sampling_json, members in groups.items():
            stage = SamplingParams.model_validate_json(sampling_json)  # validated in the driver already
            params = stage.model_copy(update={"seed": _batch_seed(stage.seed, members)})
            try:
                rows = self.backend.generate([p.prompt for p in members], params)
                for problem, completions in zip(members, rows):
                    sample = prompt_record(problem, completions, self.judge, sampling=_recorded(stage))
                    records[problem.id] = sample.model_dump_json()
            except Exception as error:  # a failed batch is retried by the next run, not fatal to this one
                for problem in members:
                    records[problem.id] = json.dumps({"id": problem.id, "error": f"{type(error).__name__}: {error}"})
        return {"record": [records[p.id] for p in problems]}


def _batch_seed(seed: int | None, members: list[Problem]) -> int | None:
    """A seed for one generate call: the run's seed and the prompts in the call (same batch, same samples)."""
    if seed is None:
        return None
    digest = hashlib.sha256(json.dumps([seed, [p.id for p in members]]).encode()).digest()
    return int.from_bytes(digest[:4], "big")


def _sample_on_ray(config: _SamplingConfig, pending: list[Problem], sampling_for, *, append) -> int:
    """Append each finished prompt's record; return how many prompts failed to generate (not recorded)."""
    import ray

    from arcray.runtime.ray_setup import ensure_ray

    ensure_ray()
    gpus = config.num_gpus_per_actor
    if gpus is None:
        gpus = 1.0 if ray.cluster_resources().get("GPU", 0) >= 1 else 0.0
    memory = actor_memory(config.student.backend, config.memory_gib_per_actor)
    check_fits(memory, f"{config.student.backend} sampler", "memory_gib_per_actor")
    items = [{"problem": json.dumps(p.to_record()), "sampling": sampling_for(p).model_dump_json()} for p in pending]
    blocks = -(-len(items) // config.batch_size)
    dataset = ray.data.from_items(items, override_num_blocks=blocks).map_batches(
        _SamplerActor,
        batch_size=config.batch_size,
        compute=ray.data.ActorPoolStrategy(size=max(1, min(config.concurrency, blocks)), max_tasks_in_flight_per_actor=1),
        fn_constructor_kwargs={"student": config.student.model_dump(mode="json"), "cache": config.cache.model_dump(mode="json"),
                               "code_timeout_s": config.code_timeout_s, "num_cpus": config.num_cpus_per_actor,
                               "run_id": f"sample-{uuid.uuid4().hex[:8]}", "env": forwarded_env()},
        num_cpus=config.num_cpus_per_actor,
        num_gpus=gpus or None,
        memory=memory,
    )
    return len(append(dataset.iter_rows(), parse=_sample_or_failure))


def _sample_or_failure(row: dict[str, Any]) -> Sample | Failed:
    record = json.loads(row["record"])
    if record.get("error"):  # not a sample: the batch failed to generate this time
        return Failed(record["id"], record["error"])
    return Sample.model_validate(record)
