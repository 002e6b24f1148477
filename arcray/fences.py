"""Fenced code blocks in a model's reply, found in one pass.

A regular expression such as ```` ```(\\w*)[^\\n]*\\n(.*?)(?:```|\\Z) ```` is quadratic on hostile
text: at each of 100,000 backticks with no newline after them it scans to the end before failing
(20 s on a 100 KB answer). This reads the same blocks with ``str.find`` from increasing positions
only, so every byte is looked at a bounded number of times. (A full Markdown parser such as
markdown-it-py is linear too, but it only opens a fence at the start of a line, and models often
write one mid-line: "Here it is: ```python".)
"""

from __future__ import annotations

import re
from typing import NamedTuple

_LANGUAGE = re.compile(r"[ \t]*([A-Za-z0-9_+-]*)")


class Fence(NamedTuple):
    language: str  # lower-cased, "" when the fence names none
    body: str


def fenced_blocks(text: str) -> list[Fence]:
    """Every ``` block: the fence's language (the word after it), and the lines up to the next ``` or the end."""
    blocks: list[Fence] = []
    position = 0
    while (start := text.find("```", position)) >= 0:
        line_end = text.find("\n", start + 3)
        if line_end < 0:
            break  # a fence with no line after it opens nothing
        close = text.find("```", line_end + 1)
        end = close if close >= 0 else len(text)
        language = _LANGUAGE.match(text, start + 3, line_end).group(1).lower()
        blocks.append(Fence(language, text[line_end + 1:end]))
        if close < 0:
            break
        position = close + 3
    return blocks


PYTHON = ("", "python", "py", "python3")
