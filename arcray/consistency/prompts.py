"""How each kind of problem is put to the model: every prompt format lives here, and only here.

Measuring before and after training must ask the same way, and generated training data must
teach the format that is measured, so loaders and the generator build prompts with these.
"""

from __future__ import annotations

MATH_INSTRUCTION = (
    "Solve the problem step by step. End with a final line of the form \"#### N\", "
    "where N is the answer as a number."
)
SHORT_MATH_INSTRUCTION = "End with a final line of the form \"#### N\", where N is the answer as a number."
CODE_INSTRUCTION = "Reply with the complete function in one ```python code block."


def user_turn(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def math_prompt(question: str) -> list[dict[str, str]]:
    """A word problem: step-by-step reasoning, then ``#### N``."""
    return user_turn(f"{question.strip()}\n\n{MATH_INSTRUCTION}")


def short_math_prompt(question: str) -> list[dict[str, str]]:
    """A one-step problem (arith-1step): no call for steps, so answers stay a line or two long."""
    return user_turn(f"{question.strip()}\n\n{SHORT_MATH_INSTRUCTION}")


def function_prompt(signature_and_docstring: str) -> list[dict[str, str]]:
    """HumanEval style: complete the function whose signature and docstring are given."""
    return user_turn(f"Complete this Python function.\n\n```python\n{signature_and_docstring.rstrip()}\n```\n\n{CODE_INSTRUCTION}")


def task_prompt(text: str, tests: list[str]) -> list[dict[str, str]]:
    """MBPP style: a task in words and the asserts the function must pass."""
    listed = "\n".join(tests)
    return user_turn(f"{text.strip()}\nYour code should pass these tests:\n\n{listed}\n\n{CODE_INSTRUCTION}")


def text_prompt(text: str) -> list[dict[str, str]]:
    """Any other category: the prompt as one user turn."""
    return user_turn(text)
