"""The majority-vote filter: n answers → the most common one, how many agree, and whether it is a tie.

A response with no answer (``key`` None) never votes: it cannot agree with anything. Among
answers tied for the most votes the first one given wins, so a vote is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from arcray.consistency.answer import Answer


@dataclass(frozen=True)
class Vote:
    """``majority``: the winning key (None when nobody answered); ``top_count``: its votes out of ``n``."""

    majority: str | None
    top_count: int
    n: int
    counts: dict[str, int] = field(default_factory=dict)  # every answer given, in first-seen order

    @property
    def tie(self) -> bool:
        """Two or more different answers share the most votes (ten different answers are a ten-way tie)."""
        return sum(count == self.top_count for count in self.counts.values()) >= 2

    @property
    def consistency(self) -> float:
        """The share of the n samples that agree with the most common answer."""
        return self.top_count / self.n if self.n else 0.0


def majority_vote(answers: Sequence[Answer]) -> Vote:
    counts: dict[str, int] = {}
    for answer in answers:
        if answer.key is not None:
            counts[answer.key] = counts.get(answer.key, 0) + 1
    if not counts:
        return Vote(None, 0, len(answers), {})
    top = max(counts.values())
    majority = next(key for key, count in counts.items() if count == top)
    return Vote(majority, top, len(answers), counts)
