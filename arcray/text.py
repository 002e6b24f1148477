"""Text from untrusted sources (solver output, exception messages, model completions) made safe to print.

Escape sequences in such text would reach the terminal raw: clearing the screen, writing the
clipboard (OSC 52) or forging a line of arcray's own output. Everything arcray prints or records
from a solver goes through :func:`printable` first.
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, and the C1 controls (ESC's 8-bit twins, CSI = U+009B).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: object, *, limit: int | None = None, one_line: bool = False) -> str:
    """``text`` as a string with control characters replaced by U+FFFD; cut to ``limit`` characters;
    with ``one_line``, line breaks and tabs become spaces (a failure is one line)."""
    value = str(text)
    if limit is not None:
        value = value[:limit]
    value = _CONTROL.sub("\ufffd", value)
    if one_line:
        value = " ".join(value.split())
    # lone surrogates (undecodable bytes smuggled through surrogateescape) cannot be encoded later
    return value.encode("utf-8", "replace").decode("utf-8")
