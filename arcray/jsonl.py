"""Reading JSON and JSONL files that users hand to arcray, with one-line errors, and the typed
records arcray writes to its own JSONL files.

Whatever the bytes (binary junk, text that is not UTF-8, JSON nested past the parser's
recursion limit), the caller gets one line naming the file and the problem, never a traceback.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any, Iterator, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from arcray.errors import ArcrayError, ConfigError, warn


def parse_json(raw: bytes | str, where: str, error: type[ArcrayError] = ArcrayError) -> Any:
    """``raw`` parsed as JSON; ``error`` with one line starting with ``where`` otherwise."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as problem:
            raise error(f"{where}: not UTF-8 text (byte {problem.start}); is this the right file?") from None
    try:
        return json.loads(raw, object_pairs_hook=_unique_keys)
    except _DuplicateKey as problem:
        raise error(f"{where}: the key {problem} appears twice in one object; keep one") from None
    except json.JSONDecodeError as problem:
        raise error(f"{where}: not valid JSON ({problem.msg} at line {problem.lineno}, column {problem.colno})") from None
    except RecursionError:
        raise error(f"{where}: JSON nested too deeply to read; is this the right file?") from None
    except ValueError:  # a number past Python's 4300-digit limit for int(): no grid, config or record has one
        raise error(f"{where}: a number in it is too long to read (over 4300 digits); is this the right file?") from None


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key given twice (json keeps the last one silently: a lost task)."""
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        repeated = next(key for key, _ in pairs if key in seen or seen.add(key))
        from arcray.text import printable

        raise _DuplicateKey(printable(repr(repeated), limit=80, one_line=True))
    return value


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


class Record(BaseModel):
    """Base of a line arcray writes to a run's JSONL files (attempts, samples, training data).

    Records outlive the code that wrote them: a field a newer arcray added is read as its
    default, and a field an older arcray wrote and this one dropped is ignored.
    """

    model_config = ConfigDict(extra="ignore")

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


R = TypeVar("R", bound=Record)


def typed_records(model: type[R], records: Iterable[Any], *, where: str) -> list[R]:
    """``records`` (parsed lines) as ``model``; a line of the wrong shape is skipped with one warning."""
    typed, skipped = [], []
    for number, record in enumerate(records, 1):
        try:
            typed.append(model.model_validate(record))
        except ValidationError as error:
            first = error.errors()[0]
            skipped.append(f"record {number}: {'.'.join(map(str, first['loc'])) or 'line'}: {first['msg']}")
    if skipped:
        warn(f"{where}: skipped {len(skipped)} record(s) of the wrong shape ({skipped[0]}); "
             "arcray did not write them: remove them, or re-run what wrote the file")
    return typed
