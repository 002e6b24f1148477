"""A scripted ARC teacher for the fake Gemini server: it knows the answers to a few real tasks.

It recognises a task by its first demonstration input, rendered as arcray renders it, and
answers the Analyst with a sentence and the Programmer/Refiner with a known solver (or a
wrong one for tasks it does not know). Tasks in ``failing`` get an HTTP 400 every time.
"""

from __future__ import annotations

from arcray.arc.render import render_grid
from arcray.arc.tasks import load_tasks
from fake_gemini import RecordedRequest, Reply

KNOWN_SOLVERS = {
    "67a3c6ac": "def solve(grid):\n    return [row[::-1] for row in grid]\n",
    "68b16354": "def solve(grid):\n    return grid[::-1]\n",
    "3c9b0459": "def solve(grid):\n    return [row[::-1] for row in grid[::-1]]\n",
}
WRONG_SOLVER = "def solve(grid):\n    return grid\n"


class ArcTeacher:
    def __init__(self, task_ids: list[str], failing: tuple[str, ...] = ()) -> None:
        self.fingerprints = {render_grid(t.train[0].input): t.id for t in load_tasks("arc1/train", ids=task_ids)}
        self.failing = set(failing)

    def task_of(self, request: RecordedRequest) -> str | None:
        text = request.user_text
        for fingerprint, task_id in self.fingerprints.items():
            if f"Input ({len(fingerprint.splitlines())}x{len(fingerprint.splitlines()[0])}):\n{fingerprint}\n" in text:
                return task_id
        return None

    def __call__(self, request: RecordedRequest) -> Reply | str:
        task_id = self.task_of(request)
        if task_id in self.failing:
            return Reply.error(400, "INVALID_ARGUMENT", "scripted bad request")
        if "Do not write code" in request.user_text:
            return "The output is a symmetric image of the input."
        code = KNOWN_SOLVERS.get(task_id, WRONG_SOLVER)
        return f"Here is the solver.\n```python\n{code}```\n"
