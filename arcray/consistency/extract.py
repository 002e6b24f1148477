"""Pulling the answer out of a response, and normalising it so equal answers compare equal.

MATH: the final number (``#### N``, then "the answer is N", then ``\\boxed{N}``, then the last
number), as a canonical decimal: ``"$1,200."`` → ``"1200"``, ``"3.50"`` → ``"3.5"``. CODE: the
function from the reply (the first ```python block, or the text), and a normal form of it (parsed
and unparsed: comments, docstrings, blank lines and formatting do not count). Other categories:
the text after a final "answer:" when there is one, else the whole reply, lower-cased with
whitespace and outer punctuation folded.
"""

from __future__ import annotations

import ast
import re
import textwrap
from decimal import Decimal, InvalidOperation

from arcray.fences import PYTHON, fenced_blocks

_NUMBER = r"-?\$?\s?(?:\d{1,3}(?:,\d{3}(?!\d))+|\d+)(?:\.\d+)?"
_FINAL_MARKERS = (
    re.compile(rf"####\s*({_NUMBER})"),
    re.compile(rf"answer\s*(?:is|:|=)?\s*[:=]?\s*\**\s*({_NUMBER})", re.IGNORECASE),
    re.compile(rf"\\boxed\{{\s*({_NUMBER})"),
)
_ANY_NUMBER = re.compile(_NUMBER)
_ANSWER_LINE = re.compile(r"(?:final answer|the answer is|answer)\s*[:\-]?\s*(.+)$", re.IGNORECASE)


def normalize_number(text: str) -> str | None:
    """A canonical decimal string: no sign of currency, thousands separators or trailing zeros."""
    cleaned = text.replace("$", "").replace(",", "").replace(" ", "").rstrip(".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def extract_number(text: str) -> str | None:
    """The response's final numeric answer, normalised; None when it states no number."""
    for marker in _FINAL_MARKERS:
        found = marker.findall(text)
        if found:
            return normalize_number(found[-1])
    numbers = _ANY_NUMBER.findall(text)
    return normalize_number(numbers[-1]) if numbers else None


def normalize_text(text: str) -> str:
    """Lower case, whitespace folded, quotes and outer punctuation dropped."""
    folded = " ".join(text.lower().split())
    return folded.strip(" \t\"'`*.,;:!?()[]{}")


def extract_text_answer(text: str) -> str | None:
    """The text after a final "answer:" line when there is one, else the whole reply; normalised."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return None
    marked = _ANSWER_LINE.search(lines[-1])
    answer = normalize_text(marked.group(1) if marked else text)
    return answer or None


def extract_code(text: str) -> str:
    """The code in a reply: its first ```python block (an unclosed one too), else the whole text. Linear."""
    return next((block.body for block in fenced_blocks(text) if block.language in PYTHON and block.body.strip()), text)


def normalize_code(code: str) -> str | None:
    """The code parsed and unparsed without docstrings or comments; None when it does not parse."""
    try:
        tree = ast.parse(textwrap.dedent(code))  # a bare function body parses once dedented
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            body.pop(0)
            if not body:
                body.append(ast.Pass())
    return ast.unparse(tree)


def defines_function(code: str, name: str) -> bool:
    # [ \t], not \s: a pattern that may cross lines at every line start is quadratic on blank lines
    return re.search(rf"^[ \t]*(?:async[ \t]+)?def[ \t]+{re.escape(name)}[ \t]*\(", code, re.MULTILINE) is not None
