"""An answer: one response after its category's extractor and judge, the thing that votes and is scored."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Answer:
    """One response, judged. ``key`` votes (None: no answer given); ``correct`` is None without a reference."""

    key: str | None
    correct: bool | None = None
    outcome: str = ""  # CODE: the sandbox outcome kind, with its message when it failed

    def to_dict(self) -> dict:
        return asdict(self)
