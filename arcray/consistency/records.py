"""The self-consistency records, one type per file a sampling run writes and every reader reads.

- :class:`Sample` — ``samples.jsonl``: one prompt, its n responses (raw text kept), their judged
  answers, the vote and the per-prompt metrics. Everything after sampling is read from these.
- :class:`FailureRecord` — ``failures.jsonl``: a prompt that failed (wrong or inconsistent), with
  its problem, so ``sc-generate --dataset run:failures.jsonl`` can answer it again.
- :class:`TrainingRecord` — ``sc.jsonl``: one response chosen as training data, with the
  temperatures of its category (see docs/consistency.md for what ``train_temperature`` means).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import Field

from arcray.jsonl import Record, typed_records

SAMPLES = "samples.jsonl"
FAILURES = "failures.jsonl"
SC_DATA = "sc.jsonl"


class Response(Record):
    """One completion as the backend returned it (``text`` None when it failed)."""

    text: str | None = None
    finish_reason: str | None = None
    completion_tokens: int | None = None
    error: str | None = None


class AnswerRecord(Record):
    """One response after its category's extractor and judge."""

    key: str | None = None
    correct: bool | None = None
    outcome: str = ""


class Sample(Record):
    """One prompt's line of ``samples.jsonl``."""

    id: str
    category: str
    sampling: dict[str, Any] = Field(default_factory=dict, description="the sampling settings the responses came from")
    responses: list[Response] = Field(default_factory=list)
    answers: list[AnswerRecord] = Field(default_factory=list)
    majority: str | None = None
    majority_votes: int = 0
    tie: bool = False
    metrics: dict[str, float | None] = Field(default_factory=dict)
    problem: dict[str, Any] = Field(default_factory=dict, description="the problem, as Problem.to_record() wrote it")

    @property
    def completion_tokens(self) -> int:
        return sum(int(r.completion_tokens or 0) for r in self.responses)


class FailureRecord(Record):
    """One line of ``failures.jsonl``: why the prompt failed, its numbers, and its problem."""

    id: str
    category: str
    reasons: list[str]
    metrics: dict[str, float | None] = Field(default_factory=dict)
    majority: str | None = None
    problem: dict[str, Any] = Field(default_factory=dict)


class TrainingRecord(Record):
    """One line of ``sc.jsonl``: a prompt and the response the student is trained to give."""

    id: str
    prompt: str | list[dict[str, Any]]
    response: str
    category: str = "unknown"
    generate_temperature: float | None = None
    train_temperature: float | None = None
    source: str = ""
    majority_agrees: bool | None = None
    answer: str | None = None
    correct: bool | None = None


def samples_from_json(records: Iterable[dict[str, Any]], *, where: str = SAMPLES) -> list[Sample]:
    """Typed samples from parsed lines; a line of the wrong shape is skipped with one warning."""
    return typed_records(Sample, records, where=where)
