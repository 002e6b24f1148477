"""`arcray prepare`: collection runs and self-consistency JSONL → a chat-format DatasetDict.

Each example is a chat: the system and user turns the student will see at evaluation time
(the task's demonstration pairs and test inputs, rendered for real), and the assistant turn
it should learn (the specification, then the solver in a python block). The split is
deterministic by group (the task id, or the prompt for self-consistency data), so a task
never has examples on both sides.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from pathlib import Path
from typing import Any, Iterable

from pydantic import BaseModel, ConfigDict, Field

from arcray.arc.attempt import ATTEMPTS, MIN_FITNESS, attempts_from_json, latest
from arcray.arc.render import RenderConfig
from arcray.arc.tasks import load_tasks
from arcray.civilization import prompts
from arcray.errors import ArcrayError, ConfigError
from arcray.jsonl import iter_jsonl
from arcray.runtime.rundir import RunDir

DATASET_DIR = "dataset"


class PrepareConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[Path] = Field(min_length=1, description="collection run directories and/or self-consistency JSONL files")
    out: Path
    val_fraction: float = Field(0.2, ge=0, lt=1, description="share of groups held out for validation")
    seed: int = Field(0, description="changes which groups land in validation")
    max_tokens: int | None = Field(None, ge=16, description="drop examples longer than this many tokens (needs tokenizer)")
    tokenizer: str | None = Field(None, description="model whose tokenizer and chat template measure lengths")
    min_fitness: float | None = Field(None, ge=0, description="override the collection run's dataset threshold")
    render: RenderConfig = RenderConfig()


def assistant_answer(spec: str, code: str) -> str:
    """What the student learns to write: the specification, then the solver."""
    spec = spec.strip()
    block = f"```python\n{code.strip()}\n```"
    return f"{spec}\n\n{block}" if spec else block


def arc_examples(run_path: Path, render: RenderConfig, min_fitness: float | None) -> list[dict[str, Any]]:
    """Chat examples from a collection run's verified solvers."""
    run = RunDir(run_path)
    config_path = run.file("config.json")
    if not config_path.exists():
        raise ArcrayError(f"{run_path} is not a collection run (no config.json); pass the --out of `arcray collect`")
    config = json.loads(config_path.read_text())
    threshold = config.get("min_fitness", MIN_FITNESS) if min_fitness is None else min_fitness
    attempts = latest(attempts_from_json(run.read_records(ATTEMPTS), where=str(run.file(ATTEMPTS))))
    records = [a for a in attempts.values() if a.verified(threshold)]
    if not records:
        return []
    tasks = {t.id: t for t in load_tasks(config["tasks"], ids=[r.task_id for r in records])}
    examples = []
    for record in records:
        task = tasks[record.task_id]
        messages = prompts.programmer_prompt(task, "", render)
        messages.append({"role": "assistant", "content": assistant_answer(record.analyst_spec, record.solver_code or "")})
        examples.append({
            "id": f"arc/{task.id}", "group": f"arc/{task.id}", "kind": "arc", "messages": messages,
            "fitness": record.fitness, "source": str(run_path),
        })
    return examples


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


def in_validation(group: str, fraction: float, seed: int) -> bool:
    digest = hashlib.sha256(f"{seed}:{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def run_prepare(config: PrepareConfig) -> dict[str, Any]:
    examples: list[dict[str, Any]] = []
    for source in config.sources:
        if source.is_dir():
            examples.extend(arc_examples(source, config.render, config.min_fitness))
        elif source.is_file():
            examples.extend(sc_examples(source))
        else:
            raise ConfigError(f"--from {source}: no such run directory or JSONL file")
    if not examples:
        raise ArcrayError("no examples: the sources hold no solver at or above the fitness threshold and no self-consistency records")
    lengths: list[int] | None = None
    dropped = 0
    if config.max_tokens is not None or config.tokenizer:
        if not config.tokenizer:
            raise ConfigError("--max-tokens needs --tokenizer MODEL to count tokens with")
        lengths = _token_lengths(examples, config.tokenizer)
        if config.max_tokens is not None:
            kept = [(e, n) for e, n in zip(examples, lengths) if n <= config.max_tokens]
            dropped = len(examples) - len(kept)
            examples, lengths = [e for e, _ in kept], [n for _, n in kept]
    for example, n in zip(examples, lengths or [None] * len(examples)):
        example["tokens"] = n
    split = {"train": [], "validation": []}
    for example in examples:
        split["validation" if in_validation(example["group"], config.val_fraction, config.seed) else "train"].append(example)
    if not split["train"]:
        raise ArcrayError("every example landed in validation; lower --val-fraction or add data")
    _save(config.out, split)
    stats = {
        "examples": len(examples),
        "train": len(split["train"]),
        "validation": len(split["validation"]),
        "dropped_over_max_tokens": dropped,
        "by_kind": _count(e["kind"] for e in examples),
        "tokens": _length_stats(lengths),
        "config": config.model_dump(mode="json"),
    }
    RunDir(config.out).write_json("stats.json", stats)
    return stats


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
    columns = ("id", "group", "kind", "messages", "fitness", "source", "tokens")
    everything = Dataset.from_list([{c: row.get(c) for c in columns} for rows in split.values() for row in rows])
    parts, start = {}, 0
    for name, rows in split.items():  # slices of one table share its features, empty ones too
        parts[name] = everything.select(list(range(start, start + len(rows))))
        start += len(rows)
    DatasetDict(parts).save_to_disk(str(out / DATASET_DIR), num_shards={name: 1 for name in parts})
