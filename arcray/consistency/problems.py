"""A benchmark problem: what the model is asked, and what an answer is checked against."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from arcray.consistency.categories import parse_category
from arcray.errors import ArcrayError

Prompt = Any  # text, or a list of {"role", "content"} messages (arcray.llm.Prompt)


@dataclass(frozen=True)
class Problem:
    """One prompt of a benchmark, with whatever its category needs to judge an answer.

    MATH: ``reference`` is the final number. CODE: the model's function is appended to
    ``preamble`` and followed by ``tests`` (which call ``entry_point``); the program passes when
    it runs to the end. Other categories: ``reference`` (optional) is the expected text.
    """

    id: str
    category: str
    prompt: Prompt
    question: str = ""
    reference: str | None = None
    solution: str | None = None  # a worked answer or reference code, when the dataset has one
    entry_point: str | None = None
    preamble: str = ""
    tests: str | None = None
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "category", parse_category(self.category))
        if self.category == "code" and not self.tests:
            raise ArcrayError(f"code problem {self.id!r} has no tests; a code problem needs tests to judge answers")

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Problem:
        """A problem from a record written by :meth:`to_record` (unknown keys are ignored)."""
        known = {f.name for f in fields(cls)}
        missing = [name for name in ("id", "category", "prompt") if name not in record]
        if missing:
            raise ArcrayError(f"a problem record needs {', '.join(missing)}; pass a file written by arcray consistency")
        return cls(**{k: v for k, v in record.items() if k in known})
