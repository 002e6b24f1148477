"""Scoring a solver by running it: fitness = train_correct + 10 × test_correct."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from arcray.arc.grid import Grid, shape
from arcray.arc.sandbox import Outcome, Sandbox
from arcray.arc.tasks import Task

TEST_WEIGHT = 10


def fitness_of(train_correct: int, test_correct: int) -> float:
    """The plan's fitness: each solved test output is worth ten train pairs."""
    return float(train_correct + TEST_WEIGHT * test_correct)


@dataclass(frozen=True)
class ExampleResult:
    """How a solver did on one train or test example."""

    split: Literal["train", "test"]
    index: int
    outcome: Outcome
    expected: Grid | None

    @property
    def correct(self) -> bool:
        return self.outcome.ok and self.expected is not None and self.outcome.grid == self.expected

    def feedback(self) -> str:
        """One line a person (or the Refiner) can act on."""
        where = f"{self.split} {self.index + 1}"
        if not self.outcome.ok:
            return f"{where}: {self.outcome.describe()}"
        if self.expected is None:
            return f"{where}: {self.outcome.describe()} (no expected output known)"
        if self.correct:
            return f"{where}: correct"
        got, want = self.outcome.grid, self.expected
        if (len(got), len(got[0])) != (len(want), len(want[0])):
            return f"{where}: wrong shape: produced {len(got)}x{len(got[0])}, expected {len(want)}x{len(want[0])}"
        wrong = sum(a != b for row_a, row_b in zip(got, want) for a, b in zip(row_a, row_b))
        return f"{where}: wrong cells: {wrong} of {len(want) * len(want[0])} differ"


@dataclass(frozen=True)
class FitnessResult:
    """A solver's score on one task, with per-example detail."""

    task_id: str
    train_correct: int
    train_total: int
    test_correct: int
    test_total: int
    examples: tuple[ExampleResult, ...] = field(repr=False)

    @property
    def fitness(self) -> float:
        return fitness_of(self.train_correct, self.test_correct)

    @property
    def max_fitness(self) -> float:
        return fitness_of(self.train_total, self.test_total)

    @property
    def solved(self) -> bool:
        """Every train pair and every known test output reproduced."""
        return self.train_correct == self.train_total and self.test_correct == self.test_total

    @property
    def train_runnable(self) -> bool:
        """It returned a grid for every train input (a runnable program, whatever it got right)."""
        return all(e.outcome.ok for e in self.examples if e.split == "train")

    @property
    def train_sized(self) -> bool:
        """It returned a grid of the expected size for every train input: it read the task's size rule, whatever it
        got right inside the grid (the first thing a program must get right, and the easiest to see)."""
        return all(e.outcome.ok and e.expected is not None and shape(e.outcome.grid) == shape(e.expected)
                   for e in self.examples if e.split == "train")

    @property
    def runnable_share(self) -> float:
        """Share of examples on which the solver ran and returned a grid."""
        return sum(e.outcome.ok for e in self.examples) / max(len(self.examples), 1)

    def test_outputs(self) -> list[Grid | None]:
        """What the solver produced for each test input (None where it failed)."""
        return [e.outcome.grid for e in self.examples if e.split == "test"]

    def to_dict(self) -> dict:
        return {
            "task_id": self.task_id,
            "fitness": self.fitness,
            "train_correct": self.train_correct,
            "train_total": self.train_total,
            "test_correct": self.test_correct,
            "test_total": self.test_total,
            "runnable_share": round(self.runnable_share, 4),
            "feedback": [e.feedback() for e in self.examples],
        }


def evaluate_solver(code: str, task: Task, sandbox: Sandbox) -> FitnessResult:
    """Run ``code`` on every train and test input of ``task`` in one sandbox call."""
    examples = [("train", i, e) for i, e in enumerate(task.train)] + [("test", i, e) for i, e in enumerate(task.test)]
    outcomes = sandbox.run(code, [e.input for _, _, e in examples])
    results = tuple(ExampleResult(split, i, outcome, e.output) for (split, i, e), outcome in zip(examples, outcomes))
    train = [r for r in results if r.split == "train"]
    test = [r for r in results if r.split == "test"]
    return FitnessResult(
        task_id=task.id,
        train_correct=sum(r.correct for r in train),
        train_total=len(train),
        test_correct=sum(r.correct for r in test),
        test_total=sum(r.expected is not None for r in test),
        examples=results,
    )
