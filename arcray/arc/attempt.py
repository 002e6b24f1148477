"""The ARC attempt record: one line of ``attempts.jsonl``, written by every teacher and read by
every stage after it (summaries, ``prepare``, ``evaluate``, reports).

One type, one place: the evolution loop, the search teacher and a failed task all build an
:class:`Attempt`; readers get :class:`Attempt` back from :func:`attempts_from_json`, with the same
defaults whoever wrote the line. :meth:`Attempt.verified` is the one dataset filter.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field

from arcray.jsonl import Record, typed_records

ATTEMPTS = "attempts.jsonl"  # the record file of a collection or evaluation run
MIN_FITNESS = 1.0  # the plan's default: a solver enters the dataset once it reproduces a train pair
INTERNAL = "internal"  # the platform failed (actor death, sandbox crash, out of memory): always retried
TEACHER = "teacher"  # the teacher failed for good (HTTP 400, retries exhausted): retried with retry_failed
ENDPOINT = "endpoint"  # the endpoint could not serve (unreachable, a quota's wait past the cap): always retried
Failure = Literal["internal", "teacher", "endpoint"]


STORED_ANSWER_CHARS = 65536  # a raw answer kept on disk; a 5 MB answer must not make a 10 MB record line
MAX_CODE_CHARS = 65536  # a solver longer than this is no solver: it is neither run nor kept


def stored_answer(text: str | None) -> tuple[str | None, int | None]:
    """(the answer as stored, its full length when it was cut; None when kept whole)."""
    if text is None or len(text) <= STORED_ANSWER_CHARS:
        return text, None
    return text[:STORED_ANSWER_CHARS], len(text)


class CandidateRecord(Record):
    """One program the teacher wrote in one generation, the raw text it came in, and how it did."""

    generation: int
    origin: str = Field(description="programmer, refiner, search, ...")
    parent: int | None = Field(None, description="index of the refined survivor in the previous generation")
    code: str | None = Field(None, description="the solver extracted from the completion; None when none was found")
    completion: str | None = Field(None, description="the model's raw text as it came back, its first "
                                   "STORED_ANSWER_CHARS characters when longer (completion_chars says how long it was)")
    completion_chars: int | None = Field(None, description="the raw text's length when it was cut for storage; None: kept whole")
    program: list[str] | None = Field(None, description="the search teacher's program, as its calls")
    fitness: float = 0.0
    train_correct: int = 0
    test_correct: int = 0
    runnable_share: float = Field(0.0, description="share of inputs on which the solver returned a grid")
    train_runnable: bool = Field(False, description="it returned a grid for every train input")
    train_sized: bool | None = Field(None, description="it returned a grid of the expected size for every train input "
                                     "(None: a record written before this was kept)")
    test_outputs: list[Any] = Field(default_factory=list, description="its grid per test input (None where it failed): "
                                    "the submission's second attempt comes from here")
    failures: list[str] = Field(default_factory=list, description="feedback for each example it got wrong")
    error: str | None = Field(None, description="the teacher's failure, when no text came back")

    @property
    def written(self) -> bool:
        """The teacher answered (whether or not the answer held a program)."""
        return self.error is None


class Attempt(Record):
    """A teacher's (or student's) attempt at one task: the best solver and every candidate."""

    task_id: str
    fitness: float = Field(0.0, description="train_correct + 10 × test_correct of the best solver")
    train_correct: int = 0
    train_total: int | None = None
    test_correct: int = 0
    test_total: int | None = None
    analyst_spec: str = ""
    solver_code: str | None = None
    test_outputs: list[Any] = Field(default_factory=list, description="the best solver's grid per test input")
    runnable_share: float = Field(0.0, description="share of written programs that returned a grid everywhere")
    generations: list[list[CandidateRecord]] = Field(default_factory=list)
    usage: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    failure: Failure | None = None
    warnings: list[str] = Field(default_factory=list)
    wall_s: float = 0.0

    @classmethod
    def failed(cls, task_id: str, reason: str, wall_s: float = 0.0) -> Attempt:
        """The record of a task the platform could not attempt (retried by the next run)."""
        return cls(task_id=task_id, error=reason, failure=INTERNAL, wall_s=round(wall_s, 3))

    @property
    def failure_kind(self) -> Failure | None:
        """INTERNAL, TEACHER or None (a finished attempt, solved or not)."""
        if self.failure is not None:
            return self.failure
        return TEACHER if self.error else None

    @property
    def solved(self) -> bool:
        """Every known test output right (not merely the train pairs)."""
        return bool(self.solver_code) and bool(self.test_total) and self.test_correct == self.test_total

    @property
    def train_fit(self) -> bool:
        """The best solver reproduces every train pair."""
        return bool(self.solver_code) and bool(self.train_total) and self.train_correct == self.train_total

    def verified(self, min_fitness: float = MIN_FITNESS) -> bool:
        """The dataset filter: a solver was kept and it scored at least ``min_fitness``."""
        return bool(self.solver_code) and self.fitness >= min_fitness

    @property
    def candidates(self) -> list[CandidateRecord]:
        return [c for generation in self.generations for c in generation]

    @property
    def programs(self) -> list[CandidateRecord]:
        """Every candidate the teacher answered with (failed requests left out)."""
        return [c for c in self.candidates if c.written]

    @property
    def tokens(self) -> int:
        return int(self.usage.get("total_tokens") or 0)


def attempts_from_json(records: Iterable[dict[str, Any]], *, where: str = ATTEMPTS) -> list[Attempt]:
    """Typed attempts from parsed lines; a line of the wrong shape is skipped with one warning."""
    return typed_records(Attempt, records, where=where)


def latest(attempts: Iterable[Attempt]) -> dict[str, Attempt]:
    """Attempts by task id, the latest one winning (a retried task supersedes its earlier failure)."""
    return {attempt.task_id: attempt for attempt in attempts}
