"""A run directory: the resolved config, JSONL records appended as work completes, a summary.

Records are appended one line at a time and flushed, so a crash (even ``kill -9``) loses only
work in flight. Reading drops only a torn last line; a line that does not parse is set aside,
never the lines after it. Re-running resumes from what is there and never writes a key twice.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Iterable

from arcray.files import atomic_write
from arcray.errors import ArcrayError, warn
from arcray.redaction import scrub

SECRET_KEY = re.compile(r"(api_?key|secret|password|passwd|credential|auth_token|access_token|bearer|^token$)", re.IGNORECASE)


def redact(value: Any) -> Any:
    """A copy of a config with anything that looks like a secret removed (``max_new_tokens`` is no secret)."""
    if isinstance(value, dict):
        return {k: ("<redacted>" if SECRET_KEY.search(str(k)) else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


class RunDir:
    """One run's folder: a local path, or a storage URI mirrored through a local staging folder."""

    def __init__(self, path: str | os.PathLike) -> None:
        from arcray.runtime.storage import Mirror, is_uri

        self.location = str(path)
        self.mirror = Mirror(str(path)) if is_uri(path) else None
        self.path = self.mirror.pull() if self.mirror else Path(path).expanduser()
        if self.path.exists() and not self.path.is_dir():
            raise ArcrayError(f"run directory {self.path} already exists and is not a folder; pass another --out")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ArcrayError(f"cannot create run directory {self.path} ({error.strerror}); pass another --out") from None

    def sync(self, *, force: bool = True) -> None:
        """Push to the storage URI (every so often unless ``force``); nothing for a local path."""
        if self.mirror:
            self.mirror.push(force=force)

    def file(self, name: str) -> Path:
        return self.path / name

    def write_json(self, name: str, payload: Any) -> Path:
        """Write atomically: a reader never sees half a file."""
        return atomic_write(self.file(name), json.dumps(payload, indent=2, default=str) + "\n")

    def write_text(self, name: str, text: str) -> Path:
        """Write atomically: a reader never sees half a file."""
        return atomic_write(self.file(name), text)

    def write_config(self, config: dict[str, Any], name: str = "config.json") -> Path:
        """The resolved config, secrets removed; a different earlier config is kept beside it."""
        payload = redact(config)
        target = self.file(name)
        if target.exists():
            try:
                previous = json.loads(target.read_text())
            except ValueError:
                previous = None
            if previous is not None and previous != payload:
                index = 1
                while self.file(f"{name}.{index}").exists():
                    index += 1
                os.replace(target, self.file(f"{name}.{index}"))
        return self.write_json(name, payload)

    def read_records(self, name: str) -> list[dict[str, Any]]:
        """Every complete record, for a reader: the file is never written.

        A line that does not parse is skipped with one warning (it costs nothing after it); a torn
        last line (a writer killed mid-line) is skipped silently.
        """
        records, _, rejected, _ = _parse_records(self.file(name))
        if rejected:
            warn(f"{self.file(name)}: {len(rejected)} line(s) do not parse (line {rejected[0][0]} first) and were "
                 f"skipped; {len(records)} good record(s) read")
        return records

    def resume_records(self, name: str) -> list[dict[str, Any]]:
        """Every complete record, for the writer about to append: the file is repaired first.

        A line that does not parse is moved aside to ``NAME.rejected`` with its line number (one
        warning line) and the good lines after it are kept; a torn last line is dropped. Only then
        is the file rewritten (atomically), so appending goes on after a clean last line.
        """
        path = self.file(name)
        records, lines, rejected, clean = _parse_records(path)
        if rejected:
            with open(path.with_name(path.name + ".rejected"), "a", encoding="utf-8") as aside:
                for number, text in rejected:
                    aside.write(json.dumps({"line": number, "text": text}) + "\n")
            warn(f"{path}: {len(rejected)} line(s) do not parse (line {rejected[0][0]} first); moved to "
                 f"{path.name}.rejected, {len(records)} good record(s) kept")
        if not clean:
            atomic_write(path, b"".join(lines))
        return records

    def appender(self, name: str) -> "RecordAppender":
        return RecordAppender(self.file(name))


class RecordAppender:
    """Appends JSON records, one flushed line each."""

    def __init__(self, path: Path) -> None:
        self.handle = open(path, "a", encoding="utf-8")

    def append(self, record: dict[str, Any]) -> None:
        self.handle.write(scrub(json.dumps(record, default=str)) + "\n")  # no key, whatever route it came by
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()

    def __enter__(self) -> "RecordAppender":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def keyed(records: Iterable[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    """Records by key, the latest one winning (a retried task supersedes its earlier failure)."""
    return {str(record[key]): record for record in records if isinstance(record, dict) and key in record}


def _parse_records(path: Path) -> tuple[list[dict[str, Any]], list[bytes], list[tuple[int, str]], bool]:
    """(records, their lines as written, rejected (line number, text) pairs, whether the file needs no repair)."""
    if not path.exists():
        return [], [], [], True
    records, lines, rejected, clean = [], [], [], True
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            if not raw.endswith(b"\n"):
                clean = False  # a torn last line: the writer died mid-line
                break
            if not raw.strip():
                continue
            record = _record(raw)
            if record is None:
                rejected.append((number, raw.decode("utf-8", "replace").rstrip("\n")[:100_000]))
                clean = False
            else:
                records.append(record)
                lines.append(raw)
    return records, lines, rejected, clean


def _record(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past the parser
        return None
    return value if isinstance(value, dict) else None
