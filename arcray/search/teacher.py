"""The search teacher: a task in, a verified standalone solver (or the reason there is none) out."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from arcray.solver.emit import emit_solver
from arcray.solver.program import Program, describe
from arcray.search.search import BudgetHit, search
from arcray.search.tasks import TaskLike
from arcray.search.verify import Grid, open_sandbox, verify_here, verify_in_sandbox

if TYPE_CHECKING:
    from arcray.arc.sandbox import Sandbox

# Measured on a quiet 2-core machine (docs/search.md, "Budget"): the former 2 s wall-clock budget
# evaluated a median 10,400 candidates on the first 60 arc1/train tasks that ran out of time (0.3 s:
# 1,490 on the first 100), about 5,000 a second; rounded.
DEFAULT_EXPANSIONS = 10_000
# A safety cap only: the slowest of those tasks took 8 CPU s at the default budget, so this leaves room
# for a machine loaded 70-fold before the clock decides anything.
DEFAULT_MAX_SECONDS = 600.0
# The settings the budget used to be given in, and what replaces them (named in the refusal).
RETIRED = {
    "time_budget_s": "max_expansions (candidate programs evaluated per task; about 5000 per former second on a quiet machine), "
    "with max_seconds as a wall-clock safety cap",
    "budget_clock": "max_expansions (a count, the same on a busy machine)",
}


class SearchConfig(BaseModel):
    """How hard the search teacher looks for a program, and how it checks what it finds."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    max_depth: int = Field(3, ge=1, le=6, description="Most primitives chained in one program (a final colour map is free).")
    max_expansions: int = Field(
        DEFAULT_EXPANSIONS, ge=1, le=10_000_000, description="Candidate programs (one step applied to one state) "
        "evaluated per task before giving up: the budget, counted, so a busy machine finds the same programs.")
    max_seconds: float | None = Field(
        DEFAULT_MAX_SECONDS, gt=0, le=3600, description="Wall-clock safety cap per task (None: none). A search it stops is recorded "
        "(budget_hit: wall, and a warning in the attempt), since its result then depends on the machine's load.")
    sandbox: bool = Field(True, description="Also run each solver through arcray.arc.sandbox when that is importable.")
    sandbox_timeout_s: float = Field(2.0, gt=0, le=600, description="Seconds the sandbox allows the solver per grid.")
    alternatives: int = Field(0, ge=0, le=32, description="Other distinct programs that fit, kept beside the first "
                              "(augmentation's alternative solutions).")
    explored: int = Field(0, ge=0, le=32, description="Programs that ran on every input without fitting, kept for "
                          "hindsight relabelling (solved and unsolved tasks alike).")

    @model_validator(mode="before")
    @classmethod
    def _refuse_retired_budget(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for old, new in RETIRED.items():
                if old in data:
                    raise ValueError(f"{old!r} is retired: the search budget is now counted; set {new}")
        return data


@dataclass(frozen=True)
class SearchResult:
    """What the teacher made of one task. `spec` and `solver_code` are empty when nothing was found."""

    task_id: str
    found: bool
    program: Program | None
    solver_code: str
    spec: str
    train_correct: int
    elapsed_s: float
    reason: str
    test_predictions: tuple[Grid | None, ...] = field(default=())
    checked_in: str = ""
    alternatives: tuple[Program, ...] = field(default=())
    explored: tuple[Program, ...] = field(default=())
    expansions: int = 0
    budget_hit: BudgetHit | None = None  # "wall": the safety cap stopped the search, so the result depends on load

    def as_record(self) -> dict[str, object]:
        """A JSON-ready dict, the program as the list of its calls."""
        return {
            "task_id": self.task_id,
            "found": self.found,
            "program": [step.call_source() for step in self.program or ()],
            "analyst_spec": self.spec,
            "solver_code": self.solver_code,
            "train_correct": self.train_correct,
            "elapsed_s": round(self.elapsed_s, 3),
            "reason": self.reason,
            "checked_in": self.checked_in,
            "expansions": self.expansions,
            "budget_hit": self.budget_hit,
        }


class SearchTeacher:
    """Writes `solve(grid)` programs for ARC tasks by searching compositions of DSL primitives.

    Holds one sandbox worker, started on first use; use as a context manager or call `close()`.
    """

    def __init__(self, config: SearchConfig | None = None) -> None:
        self.config = config or SearchConfig()
        self._sandbox: Sandbox | None = None
        self.sandbox_note = "" if self.config.sandbox else "the sandbox check is off (sandbox: false)"

    def __enter__(self) -> SearchTeacher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the sandbox worker, if one was started."""
        if self._sandbox is not None:
            self._sandbox.close()
        self._sandbox = None

    def solve(self, task: TaskLike) -> SearchResult:
        """Search, emit and verify a solver for the task; test outputs, if the task has them, are never read."""
        started = time.perf_counter()
        train_inputs = [pair.input for pair in task.train]
        train_outputs = [pair.output for pair in task.train]
        if any(output is None for output in train_outputs):
            raise ValueError(f"task {task.id} has a train pair without an output; the search needs every train output")
        test_inputs = [pair.input for pair in task.test]
        outcome = search(
            [np.array(grid) for grid in train_inputs],
            [np.array(grid) for grid in train_outputs],
            test_inputs=[np.array(grid) for grid in test_inputs],
            max_depth=self.config.max_depth,
            max_expansions=self.config.max_expansions,
            max_seconds=self.config.max_seconds,
            max_programs=1 + self.config.alternatives,
            explored=self.config.explored,
        )

        def result(found: bool, reason: str, **fields: object) -> SearchResult:
            return SearchResult(
                task_id=task.id,
                found=found,
                program=fields.pop("program", None),  # type: ignore[arg-type]
                solver_code=str(fields.pop("solver_code", "")),
                spec=str(fields.pop("spec", "")),
                train_correct=int(fields.pop("train_correct", 0)),  # type: ignore[call-overload]
                elapsed_s=time.perf_counter() - started,
                reason=reason,
                expansions=outcome.expansions,
                budget_hit=outcome.budget_hit,
                **fields,  # type: ignore[arg-type]
            )

        inputs = train_inputs + test_inputs
        if outcome.program is None:
            return result(False, outcome.reason, explored=outcome.explored)
        spec = describe(outcome.program)
        code = emit_solver(outcome.program, spec)
        alternatives = tuple(program for program in outcome.programs[1:]  # trusted DSL code: checked in-process
                             if verify_here(emit_solver(program), inputs, train_outputs).passed)  # type: ignore[arg-type]
        found = {"program": outcome.program, "solver_code": code, "spec": spec, "alternatives": alternatives,
                 "explored": outcome.explored}
        here = verify_here(code, inputs, train_outputs)  # type: ignore[arg-type]
        if not here.passed:
            return result(False, f"the emitted source disagrees with the program: {here.message}", **found)
        checked_in = "process"
        sandbox = self._open_sandbox()
        if sandbox is not None:
            boxed = verify_in_sandbox(sandbox, code, inputs, train_outputs)  # type: ignore[arg-type]
            if boxed.status == "failed":
                return result(False, boxed.message, **found)
            if boxed.passed:
                checked_in = "sandbox"
            else:
                self.sandbox_note = boxed.message
        return result(
            True,
            "found",
            train_correct=len(train_outputs),
            test_predictions=here.predictions[len(train_outputs) :],
            checked_in=checked_in,
            **found,
        )

    def _open_sandbox(self) -> Sandbox | None:
        if not self.config.sandbox:
            return None
        if self._sandbox is None:
            opened = open_sandbox(self.config.sandbox_timeout_s)
            if isinstance(opened, str):
                self.sandbox_note = opened
                return None
            self._sandbox = opened
        return self._sandbox
