"""The search teacher: a task in, a verified standalone solver (or the reason there is none) out."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from arcray.solver.emit import emit_solver
from arcray.solver.program import Program, describe
from arcray.search.search import search
from arcray.search.tasks import TaskLike
from arcray.search.verify import Grid, open_sandbox, verify_here, verify_in_sandbox

if TYPE_CHECKING:
    from arcray.arc.sandbox import Sandbox


class SearchConfig(BaseModel):
    """How hard the search teacher looks for a program, and how it checks what it finds."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    max_depth: int = Field(3, ge=1, le=6, description="Most primitives chained in one program (a final colour map is free).")
    time_budget_s: float = Field(2.0, gt=0, le=3600, description="Seconds of search per task before giving up.")
    budget_clock: Literal["wall", "cpu"] = Field(
        "wall", description="Count the budget in wall seconds, or in this process's CPU seconds (steady figures on a busy machine)."
    )
    sandbox: bool = Field(True, description="Also run each solver through arcray.arc.sandbox when that is importable.")
    sandbox_timeout_s: float = Field(2.0, gt=0, le=600, description="Seconds the sandbox allows the solver per grid.")
    alternatives: int = Field(0, ge=0, le=32, description="Other distinct programs that fit, kept beside the first "
                              "(augmentation's alternative solutions).")
    explored: int = Field(0, ge=0, le=32, description="Programs that ran on every input without fitting, kept for "
                          "hindsight relabelling (solved and unsolved tasks alike).")


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
            time_budget_s=self.config.time_budget_s,
            clock=time.perf_counter if self.config.budget_clock == "wall" else time.process_time,
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
