"""Check emitted solver source: in a fresh namespace here, and in arcray's sandbox (numpy and stdlib only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Sequence

if TYPE_CHECKING:
    from arcray.arc.sandbox import Sandbox

Grid = list[list[int]]
Status = Literal["passed", "failed", "skipped"]
# What a generated solver may raise on an input it does not fit (see arcdsl).
SOLVER_ERRORS = (ValueError, IndexError, KeyError, ZeroDivisionError, TypeError)


@dataclass(frozen=True)
class Verification:
    """Whether the solver reproduced the expected grids, and its predictions for all inputs (None where it failed)."""

    status: Status
    message: str
    predictions: tuple[Grid | None, ...] = ()

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def run_in_namespace(code: str, inputs: Sequence[Grid]) -> list[Grid | None]:
    """Run `solve` from the source on each input in a fresh namespace; None where it raises or returns a non-grid."""
    namespace: dict[str, object] = {"__name__": "solver"}
    exec(compile(code, "<solver>", "exec"), namespace)  # the code was generated here, from DSL sources
    solve = namespace["solve"]
    predictions: list[Grid | None] = []
    for grid in inputs:
        try:
            result = solve(grid)  # type: ignore[operator]
        except SOLVER_ERRORS:
            result = None
        if hasattr(result, "tolist") and not isinstance(result, list):  # an arcdsl solver returns its array
            result = result.tolist()
        predictions.append(result if _is_plain_grid(result) else None)
    return predictions


def verify_here(code: str, inputs: Sequence[Grid], expected: Sequence[Grid]) -> Verification:
    """Run the source in-process on all inputs and compare the first len(expected) results with `expected`."""
    return _judge(run_in_namespace(code, inputs), expected, where="in a fresh namespace")


def open_sandbox(timeout_s: float = 2.0) -> Sandbox | str:
    """Return a started-on-demand arcray sandbox, or the reason there is none (a message, not an error)."""
    try:
        from arcray.arc.sandbox import Sandbox
    except ImportError as error:
        return f"arcray.arc.sandbox is not importable ({error}); solvers were checked in-process only"
    return Sandbox(timeout_s=timeout_s, memory_mb=512)


def verify_in_sandbox(sandbox: Sandbox, code: str, inputs: Sequence[Grid], expected: Sequence[Grid]) -> Verification:
    """Run the source through the sandbox, where arcray is not importable, and compare as `verify_here` does."""
    from arcray.arc.sandbox import SandboxUnavailable

    try:
        outcomes = sandbox.run(code, list(inputs))
    except SandboxUnavailable as error:
        return Verification("skipped", f"the sandbox could not start ({error}); solvers were checked in-process only")
    failures = [f"input {index}: {outcome.describe()}" for index, outcome in enumerate(outcomes) if not outcome.ok]
    verdict = _judge([outcome.grid if outcome.ok else None for outcome in outcomes], expected, where="in the sandbox")
    if failures and verdict.passed:
        return Verification("failed", "the solver failed in the sandbox on " + "; ".join(failures), verdict.predictions)
    return verdict


def _judge(predictions: list[Grid | None], expected: Sequence[Grid], where: str) -> Verification:
    wrong = [index for index, (got, want) in enumerate(zip(predictions, expected)) if got != want]
    if wrong:
        return Verification("failed", f"the solver got train pairs {wrong} wrong {where}", tuple(predictions))
    return Verification("passed", f"the solver reproduced all {len(expected)} train pairs {where}", tuple(predictions))


def _is_plain_grid(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) > 0
        and all(isinstance(row, list) and row and len(row) == len(value[0]) for row in value)
        and all(type(cell) is int for row in value for cell in row)  # bools are not colours
    )
