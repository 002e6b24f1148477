"""Reading what the sandbox worker sends back: bounded in size and in nesting, never recursive.

``json.loads`` recurses once per nesting level, so a reply of a thousand ``[`` makes the caller
raise RecursionError (a traceback, and whatever the caller had in hand lost). Every legitimate
reply nests at most :data:`MAX_DEPTH` levels, so the depth is measured first, with numpy over
the bytes outside strings, and anything deeper is refused before it is parsed.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

MAX_DEPTH = 6  # {"outcomes": [{"grid": [[…]]}]} is 5
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


def nesting_depth(data: bytes) -> int:
    """How deep brackets nest in ``data`` (JSON text), counting none inside strings."""
    skeleton = np.frombuffer(_STRING.sub(b'""', data), dtype=np.uint8)
    opens = (skeleton == ord("[")) | (skeleton == ord("{"))
    closes = (skeleton == ord("]")) | (skeleton == ord("}"))
    steps = opens.astype(np.int64) - closes.astype(np.int64)
    return int(np.cumsum(steps).max(initial=0))


def parse_reply(data: bytes, *, max_depth: int = MAX_DEPTH) -> dict[str, Any] | None:
    """One JSON object from ``data``, or None when it is not one, is too deep or is not UTF-8."""
    if nesting_depth(data) > max_depth:
        return None
    try:
        message = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return message if isinstance(message, dict) else None
