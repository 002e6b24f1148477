"""Reading JSONL files that users hand to arcray, with one-line errors."""

from __future__ import annotations

import json
import os
from typing import Any, Iterator

from arcray.errors import ArcrayError, ConfigError


def iter_jsonl(path: str | os.PathLike) -> Iterator[Any]:
    """The values of a JSONL file, blank lines skipped; one line naming the file (and line) on bad input."""
    try:
        handle = open(path, encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read {path} ({error.strerror})") from None
    with handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError as error:
                    raise ArcrayError(f"{path}, line {number}: not valid JSON ({error})") from None
