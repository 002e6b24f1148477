"""`arcray prepare`: collection runs and self-consistency JSONL → a chat-format DatasetDict.

Each example is a chat: the system and user turns the student will see at evaluation time
(the task's demonstration pairs and test inputs, rendered for real), and the assistant turn
it should learn (the solver in a python block, after the specification in the full prompt
style). The split is deterministic by group (the source task id, or the prompt for
self-consistency data), so a task never has examples on both sides.

ARC collections go through augmentation (:mod:`arcray.augment`) first: the training side's
tasks are multiplied into verified examples by kind (solved, alternative, symmetry, colour,
hindsight, synthetic), each derived example grouped with its source task; the validation side
keeps only its solved tasks, so nothing derived from a held-out task reaches training.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from pydantic import BaseModel, ConfigDict, Field

from arcray.arc.attempt import ATTEMPTS, Attempt, attempts_from_json, latest
from arcray.arc.exemplars import POOL_FILE, Exemplar, exemplar, in_language, program_steps, save_pool
from arcray.arc.render import RenderConfig
from arcray.arc.sandbox import SandboxConfig
from arcray.arc.tasks import Task, load_tasks
from arcray.civilization import prompts
from arcray.augment import Derived, AugmentConfig, derive
from arcray.errors import ArcrayError, ConfigError
from arcray.tracking import TrackingConfig
from arcray.jsonl import iter_jsonl
from arcray.cards import collection_source, write_dataset_card
from arcray.runtime.manifest import Manifest, input_ref, read_artifact
from arcray.runtime.rundir import RunDir
from arcray.runtime.stage import StageRun

DATASET_DIR = "dataset"


class PrepareConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    sources: list[Path] = Field(min_length=1, description="collection run directories and/or self-consistency JSONL files")
    out: Path
    val_fraction: float = Field(0.2, ge=0, lt=1, description="share of groups held out for validation")
    seed: int = Field(0, description="changes which groups land in validation")
    max_tokens: int | None = Field(None, ge=16, description="drop training examples longer than this many tokens (needs "
                                   "tokenizer); validation keeps every example")
    tokenizer: str | None = Field(None, description="model whose tokenizer and chat template measure lengths")
    min_fitness: float | None = Field(None, ge=0, description="override the collection run's dataset threshold")
    render: RenderConfig = Field(RenderConfig(), description="the student's prompt: evaluation must render tasks the same way")
    augment: AugmentConfig = Field(AugmentConfig(), description="examples derived from the training side's ARC tasks")
    sandbox: SandboxConfig = Field(SandboxConfig(), description="where derived solvers are verified")
    max_train_examples: int | None = Field(None, ge=1, description="keep at most this many training examples (solved "
                                           "ones for up to solved_share of them, the rest drawn from the derived): a CPU's "
                                           "training budget")
    solved_share: float = Field(0.5, ge=0.0, le=1.0, description="with max_train_examples: the share kept for the teacher's "
                                "own solutions, the program distribution the held-out tasks come from")
    own_shown: float = Field(1.0, ge=0.0, le=1.0, description="with render.exemplars: the share of training examples whose own "
                             "answer is put among the listed programs (seeded per example); the rest list the nearest "
                             "programs as a held-out task's prompt does, which has its answer there only when another "
                             "task shares it")
    tracking: TrackingConfig = Field(default_factory=TrackingConfig, description="where the run's params, metrics and artifacts are logged")


def assistant_answer(spec: str, code: str) -> str:
    """What the student learns to write: the specification (when there is one), then the solver."""
    spec = spec.strip()
    block = f"```python\n{code.strip()}\n```"
    return f"{spec}\n\n{block}" if spec else block


@dataclass(frozen=True)
class Collection:
    """A collection run's usable attempts, split by task into the training and the validation side."""

    path: Path
    threshold: float
    training: list[tuple[Task, Attempt]]
    validation: list[tuple[Task, Attempt]]
    tasks: str = ""
    manifest: Manifest | None = None


def load_collection(run_path: Path, config: PrepareConfig) -> Collection:
    """A collection run, read through its manifest: the task source and the dataset's fitness threshold
    come from there (typed), never from a restated flag; ``config.min_fitness`` overrides the threshold."""
    manifest = read_artifact(run_path, need=("collect",), role="prepare source")
    run = RunDir(run_path)
    collected = manifest.exports
    threshold = float(collected["min_fitness"]) if config.min_fitness is None else config.min_fitness
    attempts = [a for a in latest(attempts_from_json(run.read_records(ATTEMPTS), where=str(run.file(ATTEMPTS)))).values()
                if a.failure_kind is None]
    tasks = {t.id: t for t in load_tasks(collected["tasks"], ids=[a.task_id for a in attempts])} if attempts else {}
    sides: dict[bool, list[tuple[Task, Attempt]]] = {True: [], False: []}
    for attempt in sorted(attempts, key=lambda a: a.task_id):  # not arrival order: seeded augmentation follows it
        sides[in_validation(f"arc/{attempt.task_id}", config.val_fraction, config.seed)].append((tasks[attempt.task_id], attempt))
    return Collection(path=run_path, threshold=threshold, training=sides[False], validation=sides[True],
                      tasks=collected["tasks"], manifest=manifest)


def exemplar_pool(collections: Iterable[Collection]) -> tuple[Exemplar, ...]:
    """The training side's verified solvers written in the student's language (every line a ``grid = f(grid, …)``
    call): what a prompt's exemplars are drawn from. The validation side never contributes."""
    pool = []
    for collection in collections:
        for task, attempt in collection.training:
            if attempt.verified(collection.threshold) and attempt.solver_code:
                made = exemplar(task, attempt.solver_code)
                if in_language(made.steps):
                    pool.append(made)
    return tuple(pool)


def arc_examples(collection: Collection, config: PrepareConfig) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Chat examples from a collection run: the augmentation's verified examples for the training side's
    tasks, the solved tasks alone for the validation side; and what augmentation rejected, by reason.
    ``config.render`` carries the exemplar pool where the prompt lists exemplars."""
    threshold = collection.threshold
    if not collection.training and not collection.validation:
        return [], {}
    solved_only = AugmentConfig(symmetries=0, colour_permutations=0, alternatives=False, hindsight=0, synthetic=0,
                               workers=config.augment.workers, timeout_s=config.augment.timeout_s)
    docstrings = config.render.prompt == "full"
    examples: list[dict[str, Any]] = []
    rejected: dict[str, int] = {}
    source = str(collection.path)
    for held_out, pairs in ((True, collection.validation), (False, collection.training)):
        augmented = derive(pairs, solved_only if held_out else config.augment, config.sandbox, min_fitness=threshold,
                        docstrings=docstrings)
        by_task = {t.id: a for t, a in pairs}
        for made in augmented.examples:
            examples.append(_chat_example(made, by_task[made.source], config, len(examples), source))
        # A solver at or above the threshold that does not fit every train pair: the plan's dataset keeps it as written.
        derived_solved = {m.source for m in augmented.examples if m.kind == "solved"}
        for task, attempt in pairs:
            if attempt.verified(threshold) and task.id not in derived_solved:
                made = Derived("solved", task.id, task, attempt.solver_code or "", "the teacher's solver as recorded")
                examples.append(_chat_example(made, attempt, config, len(examples), source))
        for reason, count in augmented.rejected.items():
            rejected[reason] = rejected.get(reason, 0) + count
    return examples, rejected


def _chat_example(made: Derived, attempt: Attempt, config: PrepareConfig, number: int, source: str) -> dict[str, Any]:
    render = config.render
    spec = attempt.analyst_spec if made.kind == "solved" and render.prompt == "full" else ""
    suffix = "" if made.kind == "solved" else f"/{made.kind}/{number}"
    # Its own answer listed among the exemplars (never its source task's other programs) teaches choosing; left to
    # the nearest programs alone (own_shown < 1), the prompt is a held-out task's, whose answer is rarely listed.
    own = program_steps(made.code)
    listed = in_language(own) and _draw(f"{config.seed}:own:arc/{made.source}{suffix}") < config.own_shown
    messages = prompts.programmer_prompt(made.task, "", render, own=own if listed else None, exclude=(made.source,))
    messages.append({"role": "assistant", "content": assistant_answer(spec, made.code)})
    return {"id": f"arc/{made.source}{suffix}", "group": f"arc/{made.source}", "kind": f"arc/{made.kind}",
            "messages": messages, "fitness": attempt.fitness if made.kind == "solved" else None, "source": source,
            "derivation": made.how}


def sc_examples(path: Path) -> list[dict[str, Any]]:
    """Chat examples from self-consistency generation JSONL (prompt, response, category, …)."""
    examples = []
    for number, record in enumerate(iter_jsonl(path), 1):
        if "prompt" not in record or "response" not in record:
            raise ArcrayError(f"{path}, line {number}: a self-consistency record needs 'prompt' and 'response'")
        prompt = record["prompt"]
        messages = list(prompt) if isinstance(prompt, list) else [{"role": "user", "content": str(prompt)}]
        messages.append({"role": "assistant", "content": str(record["response"])})
        key = json.dumps(prompt, sort_keys=True)
        examples.append({
            "id": f"sc/{record.get('id', number)}", "group": "sc/" + hashlib.sha1(key.encode()).hexdigest()[:16],
            "kind": f"sc/{str(record.get('category', 'unknown')).lower()}", "messages": messages,
            "fitness": None, "source": str(path),
        })
    return examples


def _draw(key: str) -> float:
    """A uniform number in [0, 1) fixed by ``key``: seeded choices that do not depend on the order examples come in."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64


def in_validation(group: str, fraction: float, seed: int) -> bool:
    digest = hashlib.sha256(f"{seed}:{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def run_prepare(config: PrepareConfig) -> dict[str, Any]:
    """Build the dataset into ``config.out``, a ``prepare`` run whose manifest exports what evaluation
    and tuning read instead of restating it: the prompt's render settings (the exemplar pool by its
    path), the held-out task ids and their source, the fitness threshold."""
    collections = {source: load_collection(source, config) for source in config.sources if source.is_dir()}
    for source in config.sources:
        if not source.is_dir() and not source.is_file():
            raise ConfigError(f"--from {source}: no such run directory or JSONL file")
    inputs = [input_ref(source, collections[source].manifest if source in collections else None) for source in config.sources]
    with StageRun(config.out, "prepare", config=config.model_dump(mode="json"), inputs=inputs,
                  seeds={"split": config.seed}, tracking=config.tracking) as stage:
        stats, render, held_out = _prepare(config, collections)
        tasks = sorted({c.tasks for c in collections.values()})
        write_dataset_card(config.out, config=config.model_dump(mode="json"), stats=stats, held_out=held_out,
                           sources=[_source(source, collections.get(source)) for source in config.sources])
        stage.finish(
            metrics={k: stats[k] for k in ("examples", "train", "validation", "train_tokens", "exemplar_pool")},
            outputs=[DATASET_DIR, "train.jsonl", "validation.jsonl", POOL_FILE, "stats.json", "README.md"],
            exports={"render": render.model_dump(mode="json"), "held_out_ids": held_out,
                     "tasks": tasks[0] if len(tasks) == 1 else None,
                     "min_fitness": min((c.threshold for c in collections.values()), default=None),
                     "val_fraction": config.val_fraction, "seed": config.seed},
            artifacts=[config.out / "stats.json"])
    return stats


def _source(location: Path, collection: Collection | None) -> dict[str, Any]:
    """A source as the dataset card names it: a collection run (its task source, teacher and threshold) or a file."""
    if collection is None:
        return {"location": str(location), "stage": "self-consistency records"}
    return collection_source(location, collection.manifest, tasks=collection.tasks, min_fitness=collection.threshold)


def _prepare(config: PrepareConfig, collections: dict[Path, Collection]) -> tuple[dict[str, Any], RenderConfig, list[str]]:
    examples: list[dict[str, Any]] = []
    rejected: dict[str, int] = {}
    pool = exemplar_pool(collections.values())
    render = config.render
    if collections:  # what evaluation's prompts list exemplars from (render.exemplars), whether or not these do
        save_pool(pool, config.out / POOL_FILE)
        render = render.model_copy(update={"exemplar_pool": str((config.out / POOL_FILE).resolve())})
    arc_config = config.model_copy(update={"render": render})
    for source in config.sources:
        if source.is_dir():
            made, refused = arc_examples(collections[source], arc_config)
            examples.extend(made)
            for reason, count in refused.items():
                rejected[reason] = rejected.get(reason, 0) + count
        else:
            examples.extend(sc_examples(source))
    if not examples:
        raise ArcrayError("no examples: the sources hold no solver at or above the fitness threshold and no self-consistency records")
    lengths: list[int] | None = None
    dropped = 0
    if config.max_tokens is not None or config.tokenizer:
        if not config.tokenizer:
            raise ConfigError("--max-tokens needs --tokenizer MODEL to count tokens with")
        lengths = _token_lengths(examples, config.tokenizer)
        if config.max_tokens is not None:  # the training side only: a held-out task stays held out, however long
            kept = [(e, n) for e, n in zip(examples, lengths)
                    if n <= config.max_tokens or in_validation(e["group"], config.val_fraction, config.seed)]
            dropped = len(examples) - len(kept)
            examples, lengths = [e for e, _ in kept], [n for _, n in kept]
    for example, n in zip(examples, lengths or [None] * len(examples)):
        example["tokens"] = n
    split = {"train": [], "validation": []}
    for example in examples:
        split["validation" if in_validation(example["group"], config.val_fraction, config.seed) else "train"].append(example)
    if not split["train"]:
        raise ArcrayError("every example landed in validation; lower --val-fraction or add data")
    capped = 0
    if config.max_train_examples is not None and len(split["train"]) > config.max_train_examples:
        split["train"], capped = _capped(split["train"], config.max_train_examples, config.seed, config.solved_share)
    _save(config.out, split)
    kept = split["train"] + split["validation"]
    # Teacher-solved tasks the split kept out of training: reachable, yet unseen by the student.
    held_out = sorted({e["group"].removeprefix("arc/") for e in split["validation"] if e["kind"] in ("arc", "arc/solved")})
    stats = {
        "examples": len(kept),
        "train": len(split["train"]),
        "validation": len(split["validation"]),
        "dropped_over_max_tokens": dropped,
        "dropped_over_max_train_examples": capped,
        "by_kind": _count(e["kind"] for e in kept),
        "by_kind_train": _count(e["kind"] for e in split["train"]),
        "rejected_by_augment": dict(sorted(rejected.items())),
        "tokens": _length_stats([e["tokens"] for e in kept if e.get("tokens") is not None] or None),
        "train_tokens": sum(e.get("tokens") or 0 for e in split["train"]),
        "exemplar_pool": len(pool),
        "held_out": len(held_out),
        "config": config.model_dump(mode="json"),
    }
    RunDir(config.out).write_json("stats.json", stats)
    return stats, render, held_out


def _capped(train: list[dict[str, Any]], limit: int, seed: int, share: float = 0.5) -> tuple[list[dict[str, Any]], int]:
    """At most ``limit`` examples, the order kept: solved ones (and non-ARC ones) for up to ``share`` of it,
    the rest drawn from the derived kind by kind in turn (seeded), so that no one kind's habits (a
    symmetry's rotate-first wrapping, say) make most of what the student learns; any share one side
    or kind cannot fill goes to the others."""
    import random

    rng = random.Random(seed)
    first = [i for i, e in enumerate(train) if e["kind"] in ("arc/solved", "arc") or not e["kind"].startswith("arc")]
    chosen = set(first)
    by_kind: dict[str, list[int]] = {}
    for i, example in enumerate(train):
        if i not in chosen:
            by_kind.setdefault(example["kind"], []).append(i)
    rng.shuffle(first)
    for indices in by_kind.values():
        rng.shuffle(indices)
    rest = [i for group in itertools.zip_longest(*(by_kind[k] for k in sorted(by_kind))) for i in group if i is not None]
    take_first = max(round(limit * share), limit - len(rest))
    keep = set(first[:take_first])
    keep |= set(rest[: limit - len(keep)])
    return [e for i, e in enumerate(train) if i in keep], len(train) - len(keep)


def _token_lengths(examples: list[dict[str, Any]], model: str) -> list[int]:
    from transformers import AutoTokenizer

    from arcray.llm.hf import resolve_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_model(model))
    lengths = []
    for example in examples:
        ids = tokenizer.apply_chat_template(example["messages"], tokenize=True)
        if isinstance(ids, dict) or hasattr(ids, "input_ids"):
            ids = ids["input_ids"]
        lengths.append(len(ids))
    return lengths


def _length_stats(lengths: list[int] | None) -> dict[str, Any] | None:
    if not lengths:
        return None
    ordered = sorted(lengths)
    return {"mean": round(statistics.fmean(ordered), 1), "median": statistics.median(ordered), "max": ordered[-1],
            "p90": ordered[int(0.9 * (len(ordered) - 1))], "total": sum(ordered)}


def _count(values: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return dict(sorted(out.items()))


def _save(out: Path, split: dict[str, list[dict[str, Any]]]) -> None:
    import datasets
    from datasets import Dataset, DatasetDict

    datasets.disable_progress_bars()
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in split.items():
        with open(out / f"{name}.jsonl", "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row) + "\n")
    columns = ("id", "group", "kind", "messages", "fitness", "source", "tokens", "derivation")
    everything = Dataset.from_list([{c: row.get(c) for c in columns} for rows in split.values() for row in rows])
    parts, start = {}, 0
    for name, rows in split.items():  # slices of one table share its features, empty ones too
        parts[name] = everything.select(list(range(start, start + len(rows))))
        start += len(rows)
    DatasetDict(parts).save_to_disk(str(out / DATASET_DIR), num_shards={name: 1 for name in parts})
