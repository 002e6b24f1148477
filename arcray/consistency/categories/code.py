"""CODE: write a Python function; correct when the problem's tests run to the end against it.

The answer (the preamble and the reply's code) must compile on its own and runs in its own
confined process; the tests run in another, calling it with plain data and comparing there
(:meth:`arcray.arc.sandbox.Sandbox.test_function`). Nothing the answer does can reach the tests,
their expected values or the verdict.

Answers vote by the function's normal form (parsed and unparsed: comments, docstrings and
formatting do not count), so the same program written differently is the same answer; identical
programs run once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from arcray.consistency.answer import Answer
from arcray.consistency.categories.registry import CategorySpec, Temperatures, register_category
from arcray.consistency.extract import defines_function, extract_code, normalize_code
from arcray.consistency.problems import Problem

if TYPE_CHECKING:
    from arcray.arc.sandbox import Sandbox


class SandboxTools(Protocol):
    """What judging code needs from the :class:`~arcray.consistency.judge.Judge` asking."""

    code_timeout_s: float

    @property
    def sandbox(self) -> Sandbox: ...


def code_answer(problem: Problem, reply: str) -> tuple[str, str]:
    """(the code in the reply, the answer's whole source: the preamble and the code, never the tests)."""
    code = extract_code(reply)
    if problem.entry_point and not defines_function(code, problem.entry_point) and code[:1] in (" ", "\t"):
        return code, f"{problem.preamble}{code}\n"  # a bare body completes the preamble's def
    return code, f"{problem.preamble}\n\n{code}\n"


def code_key(code: str) -> str | None:
    """What a piece of code votes as: its normal form, or its whitespace-folded text when it does not parse."""
    return normalize_code(code) or " ".join(code.split()) or None


def answer_key(reply: str) -> str | None:
    """The function in a reply, as it votes."""
    return code_key(extract_code(reply))


def run_tests(problem: Problem, responses: list[str | None], tools: SandboxTools) -> list[Answer]:
    """One answer per response: its key, whether the tests passed, and the sandbox's outcome."""
    by_source: dict[str, Answer] = {}  # identical answers are judged once
    answers = []
    for text in responses:
        if text is None or not text.strip():
            answers.append(Answer(None, False))
            continue
        code, source = code_answer(problem, text)
        if source not in by_source:
            outcome = tools.sandbox.test_function(source, entry_point=problem.entry_point, setup=problem.preamble,
                                                  tests=problem.tests, timeout_s=tools.code_timeout_s)
            by_source[source] = Answer(code_key(code), outcome.ok, outcome.describe() if not outcome.ok else "ok")
        answers.append(by_source[source])
    return answers


def python_block(solution: str) -> str:
    """Reference code as the reply a model should give."""
    return f"```python\n{solution.rstrip()}\n```"


CODE = register_category(CategorySpec(
    name="code",
    temperatures=Temperatures(generate=0.0, train=0.0),  # code must be correct
    description="write a Python function, judged by its tests (humaneval, mbpp:PATH)",
    extract=answer_key,
    judge=run_tests,
    default_source="humaneval",
    requires=("tests", "entry_point"),
    needs_sandbox=True,
    reference_response=python_block,
))
