"""Run derived solvers in the sandbox, several at once, and judge what they return.

Each worker thread holds its own :class:`~arcray.arc.sandbox.Sandbox` (one confined process),
so ``workers`` solvers run in parallel; the judging is done here, in the caller, on what the
sandbox sent back (never on what the solver claims).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Sequence

from arcray.arc.grid import Grid, colours
from arcray.arc.sandbox import Outcome, Sandbox, SandboxConfig


@dataclass(frozen=True)
class Job:
    """One solver to run on some inputs."""

    code: str
    inputs: tuple[Grid, ...]


def run_jobs(jobs: Sequence[Job], sandbox: SandboxConfig, workers: int) -> list[list[Outcome]]:
    """Every job's outcomes, in order (a job whose sandbox call failed gets crash outcomes)."""
    local = threading.local()
    boxes: list[Sandbox] = []
    lock = threading.Lock()

    def run(job: Job) -> list[Outcome]:
        box = getattr(local, "box", None)
        if box is None:
            box = local.box = Sandbox(sandbox)
            with lock:
                boxes.append(box)
        return box.run(job.code, list(job.inputs))

    try:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
            return list(pool.map(run, jobs))
    finally:
        for box in boxes:
            box.close()


def reproduces(outcomes: Sequence[Outcome], expected: Sequence[Grid]) -> bool:
    """Every input answered with exactly the expected grid."""
    return len(outcomes) == len(expected) and all(o.ok and o.grid == e for o, e in zip(outcomes, expected))


def trivial(inputs: Sequence[Grid], outputs: Sequence[Grid]) -> str | None:
    """Why these outputs make no task worth learning (None when they do): an output equal to its input,
    one colour everywhere, or the same output for every input."""
    if any(i == o for i, o in zip(inputs, outputs)):
        return "an output equals its input"
    if any(len(colours(o)) == 1 for o in outputs):
        return "an output is a single colour"
    if len(outputs) > 1 and all(o == outputs[0] for o in outputs):
        return "every input gets the same output"
    return None
