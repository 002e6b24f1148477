"""What the search teacher needs of a task, and where the named task sets come from."""

from __future__ import annotations

from typing import Protocol, Sequence

from arcray.arc.tasks import load_tasks

Grid = list[list[int]]


class ExampleLike(Protocol):
    """One input/output pair; `output` is None where it is hidden."""

    @property
    def input(self) -> Grid: ...

    @property
    def output(self) -> Grid | None: ...


class TaskLike(Protocol):
    """An id, train pairs and test inputs: `arcray.arc.tasks.Task` or anything shaped like it."""

    @property
    def id(self) -> str: ...

    @property
    def train(self) -> Sequence[ExampleLike]: ...

    @property
    def test(self) -> Sequence[ExampleLike]: ...


__all__ = ["ExampleLike", "TaskLike", "load_tasks"]
