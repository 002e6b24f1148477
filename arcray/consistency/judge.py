"""The extract filter: each response becomes an :class:`Answer`, the thing that votes and is scored.

Each problem's category says how (:mod:`arcray.consistency.categories`): its extractor gives the
answer that votes, and its judge says whether it is correct. A category without a judge of its
own is correct when the extracted answer equals the normalised reference (MATH: the final number;
the plain-text categories: the normalised text). CODE runs the function with the problem's tests
in the arcray sandbox, which the Judge holds.
"""

from __future__ import annotations

from arcray.arc.sandbox import Sandbox, SandboxConfig
from arcray.consistency.answer import Answer
from arcray.consistency.categories import CategorySpec, get_category
from arcray.consistency.problems import Problem

__all__ = ["Answer", "Judge"]


class Judge:
    """Turns responses into answers. Holds a sandbox (started on the first code problem); close it."""

    def __init__(self, sandbox: SandboxConfig | None = None, *, code_timeout_s: float = 5.0) -> None:
        self.sandbox_config = sandbox or SandboxConfig(timeout_s=code_timeout_s)
        self.code_timeout_s = code_timeout_s
        self._sandbox: Sandbox | None = None

    def answers(self, problem: Problem, responses: list[str | None]) -> list[Answer]:
        """One answer per response; a failed completion (None) is no answer."""
        spec = get_category(problem.category)
        if spec.judge is not None:
            return spec.judge(problem, list(responses), self)
        return [_matched(spec, problem, text) for text in responses]

    def answer(self, problem: Problem, text: str | None) -> Answer:
        if text is None:
            return Answer(None, False if problem.reference is not None else None)
        return self.answers(problem, [text])[0]

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            self._sandbox = Sandbox(self.sandbox_config)
        return self._sandbox

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def __enter__(self) -> Judge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _matched(spec: CategorySpec, problem: Problem, text: str | None) -> Answer:
    """The default judge: the extracted answer, correct when it equals the normalised reference."""
    if text is None:
        return Answer(None, False if problem.reference is not None else None)
    key = spec.extract(text)
    reference = spec.normalize_reference(problem.reference) if problem.reference is not None else None
    correct = None if reference is None else key is not None and key == reference
    return Answer(key, correct)
