"""Reading JSON and JSONL files that users hand to arcray, with one-line errors.

Whatever the bytes (binary junk, text that is not UTF-8, JSON nested past the parser's
recursion limit), the caller gets one line naming the file and the problem, never a traceback.
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterator

from arcray.errors import ArcrayError, ConfigError


def parse_json(raw: bytes | str, where: str, error: type[ArcrayError] = ArcrayError) -> Any:
    """``raw`` parsed as JSON; ``error`` with one line starting with ``where`` otherwise."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as problem:
            raise error(f"{where}: not UTF-8 text (byte {problem.start}); is this the right file?") from None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as problem:
        raise error(f"{where}: not valid JSON ({problem.msg} at line {problem.lineno}, column {problem.colno})") from None
    except RecursionError:
        raise error(f"{where}: JSON nested too deeply to read; is this the right file?") from None


def read_json(path: str | os.PathLike, error: type[ArcrayError] = ArcrayError) -> Any:
    """The JSON value in the file at ``path``; ``error`` with one line on any problem."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as problem:
        raise error(f"{path}: cannot read ({problem.strerror})") from None
    return parse_json(raw, str(path), error)


def iter_jsonl(path: str | os.PathLike) -> Iterator[Any]:
    """The values of a JSONL file, blank lines skipped; one line naming the file (and line) on bad input."""
    try:
        handle = open(path, "rb")
    except OSError as error:
        raise ConfigError(f"cannot read {path} ({error.strerror})") from None
    with handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield parse_json(line, f"{path}, line {number}")
