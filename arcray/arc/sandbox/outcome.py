"""What running ``solve`` on one input (or judging a CODE answer, see ``Sandbox.test_function``) came to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from arcray.arc.grid import Grid

OutcomeKind = Literal[
    "ok",  # returned a valid grid (a CODE answer: its tests ran to the end)
    "timeout",  # exceeded the wall-clock limit
    "exception",  # raised (message holds type and text)
    "memory",  # exceeded the memory limit
    "not_grid",  # returned something that is not a grid of colours 0-9
    "bad_shape",  # returned a ragged, empty or larger-than-30x30 grid
    "invalid_code",  # the source does not compile or defines no solve() (a CODE answer: no entry point)
    "crash",  # the process died (segfault, os._exit, killed) before returning
]
OUTCOME_KINDS: tuple[str, ...] = OutcomeKind.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Outcome:
    """The result of one ``solve(grid)`` call: a grid, or the kind of failure."""

    kind: OutcomeKind
    grid: Grid | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.kind == "ok"

    def describe(self) -> str:
        """One line for people and for the Refiner's feedback."""
        if self.ok:
            return "ran to the end" if self.grid is None else f"returned a {len(self.grid)}x{len(self.grid[0])} grid"
        return f"{self.kind}: {self.message}" if self.message else self.kind
