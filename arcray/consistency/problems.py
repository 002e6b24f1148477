"""A benchmark problem: what the model is asked, and what an answer is checked against."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

# the registry itself, not the package: the code category imports this module
from arcray.consistency.categories.registry import get_category
from arcray.errors import ArcrayError, ConfigError, did_you_mean

Prompt = Any  # text, or a list of {"role", "content"} messages (arcray.llm.Prompt)


@dataclass(frozen=True)
class Problem:
    """One prompt of a benchmark, with whatever its category needs to judge an answer.

    MATH: ``reference`` is the final number. CODE: the model's function is appended to
    ``preamble`` and followed by ``tests`` (which call ``entry_point``); the program passes when
    it runs to the end. Other categories: ``reference`` (optional) is the expected text. The
    fields a category cannot judge without are its spec's ``requires``.
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
        spec = get_category(self.category)
        object.__setattr__(self, "category", spec.name)
        for name in spec.requires:
            if name not in _FIELDS:
                raise ConfigError(f"category {spec.name} requires {name!r}{did_you_mean(name, _FIELDS)}, which is not "
                                  f"a Problem field; fix its CategorySpec(requires=...)")
            if not getattr(self, name):
                article = "an" if spec.name[0] in "aeiou" else "a"
                raise ArcrayError(f"{spec.name} problem {self.id!r} has no {name}; "
                                  f"{article} {spec.name} problem needs {name} to judge answers")

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


_FIELDS = tuple(f.name for f in fields(Problem))
