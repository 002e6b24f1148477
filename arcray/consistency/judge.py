"""The extract filter: each response becomes an :class:`Answer`, the thing that votes and is scored.

MATH: the final number, correct when it equals the reference. CODE: the function from the reply,
run with the problem's tests in the arcray sandbox (correct when the program runs to the end),
voting by its normalised text. Others: the normalised text, correct when it equals the reference.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from arcray.arc.sandbox import Sandbox, SandboxConfig
from arcray.consistency.extract import (
    defines_function,
    extract_code,
    extract_number,
    extract_text_answer,
    normalize_code,
    normalize_number,
    normalize_text,
)
from arcray.consistency.problems import Problem


@dataclass(frozen=True)
class Answer:
    """One response, judged. ``key`` votes (None: no answer given); ``correct`` is None without a reference."""

    key: str | None
    correct: bool | None = None
    outcome: str = ""  # CODE: the sandbox outcome kind, with its message when it failed

    def to_dict(self) -> dict:
        return asdict(self)


def code_program(problem: Problem, reply: str) -> tuple[str, str]:
    """(the code in the reply, the program that tests it: preamble, code, tests)."""
    code = extract_code(reply)
    if problem.entry_point and not defines_function(code, problem.entry_point) and code[:1] in (" ", "\t"):
        return code, f"{problem.preamble}{code}\n\n{problem.tests}\n"  # a bare body completes the preamble's def
    return code, f"{problem.preamble}\n\n{code}\n\n{problem.tests}\n"


class Judge:
    """Turns responses into answers. Holds a sandbox (started on the first code problem); close it."""

    def __init__(self, sandbox: SandboxConfig | None = None, *, code_timeout_s: float = 5.0) -> None:
        self.sandbox_config = sandbox or SandboxConfig(timeout_s=code_timeout_s)
        self.code_timeout_s = code_timeout_s
        self._sandbox: Sandbox | None = None

    def answers(self, problem: Problem, responses: list[str | None]) -> list[Answer]:
        """One answer per response; a failed completion (None) is no answer."""
        if problem.category == "code":
            return self._code_answers(problem, responses)
        return [self.answer(problem, text) for text in responses]

    def answer(self, problem: Problem, text: str | None) -> Answer:
        if text is None:
            return Answer(None, False if problem.reference is not None else None)
        if problem.category == "math":
            key = extract_number(text)
            reference = normalize_number(problem.reference) if problem.reference is not None else None
        elif problem.category == "code":
            return self._code_answers(problem, [text])[0]
        else:
            key = extract_text_answer(text)
            reference = normalize_text(problem.reference) if problem.reference is not None else None
        correct = None if reference is None else key is not None and key == reference
        return Answer(key, correct)

    def _code_answers(self, problem: Problem, responses: list[str | None]) -> list[Answer]:
        by_program: dict[str, Answer] = {}  # identical programs run once
        answers = []
        for text in responses:
            if text is None or not text.strip():
                answers.append(Answer(None, False))
                continue
            code, program = code_program(problem, text)
            if program not in by_program:
                outcome = self.sandbox.run_program(program, timeout_s=self.code_timeout_s)
                key = normalize_code(code) or " ".join(code.split()) or None
                by_program[program] = Answer(key, outcome.ok, outcome.describe() if not outcome.ok else "ok")
            answers.append(by_program[program])
        return answers

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
