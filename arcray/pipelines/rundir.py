"""A run directory: the resolved config, JSONL records appended as work completes, a summary.

Records are appended one line at a time and flushed, so a crash (even ``kill -9``) loses only
work in flight. Reading tolerates a torn last line; re-running resumes from what is there and
never writes a key twice.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Iterable

from arcray.errors import ArcrayError

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
        from arcray.pipelines.storage import Mirror, is_uri

        self.location = str(path)
        self.mirror = Mirror(str(path)) if is_uri(path) else None
        self.path = self.mirror.pull() if self.mirror else Path(path).expanduser()
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
        target = self.file(name)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        os.replace(tmp, target)
        return target

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
        """Every complete record; a torn last line (a killed writer) is dropped and truncated away."""
        path = self.file(name)
        if not path.exists():
            return []
        records, good_bytes = [], 0
        with open(path, "rb") as handle:
            for raw in handle:
                if not raw.endswith(b"\n"):
                    break
                try:
                    records.append(json.loads(raw))
                except ValueError:
                    break
                good_bytes += len(raw)
        if good_bytes != path.stat().st_size:
            with open(path, "r+b") as handle:
                handle.truncate(good_bytes)
        return records

    def appender(self, name: str) -> "RecordAppender":
        return RecordAppender(self.file(name))


class RecordAppender:
    """Appends JSON records, one flushed line each."""

    def __init__(self, path: Path) -> None:
        self.handle = open(path, "a", encoding="utf-8")

    def append(self, record: dict[str, Any]) -> None:
        self.handle.write(json.dumps(record, default=str) + "\n")
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()

    def __enter__(self) -> "RecordAppender":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def keyed(records: Iterable[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    """Records by key, first one wins (a duplicate can only come from a hand-edited file)."""
    out: dict[str, dict[str, Any]] = {}
    for record in records:
        out.setdefault(str(record[key]), record)
    return out
