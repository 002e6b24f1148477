"""Run directories on shared storage: a local folder, an NFS path, or a bucket URI.

A plain path is used as it is (an NFS mount on every node works the same). A URI
(``s3://bucket/runs/x``, ``gs://…``, ``file:///…``) is mirrored: the run works in a local
staging folder, pulled from the URI first (so a resumed run on a fresh cluster finds what an
earlier one wrote) and pushed back every ``push_every_s`` and at the end. Ray Train and Tune
take the same URI as their ``storage_path`` natively.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from arcray.errors import ArcrayError

PUSH_EVERY_S = 30.0


def is_uri(location: str | os.PathLike) -> bool:
    return "://" in str(location)


def join(location: str, *parts: str) -> str:
    """``location`` (a folder or a URI, whose query such as ``?endpoint_override=…`` stays at the end) with ``parts`` appended."""
    if not is_uri(location):
        return str(Path(location, *parts))
    base, sep, query = location.partition("?")
    return "/".join([base.rstrip("/"), *parts]) + sep + query


def staging_dir(uri: str) -> Path:
    root = Path(os.environ.get("ARCRAY_CACHE_DIR") or "~/.cache/arcray").expanduser() / "staging"
    return root / hashlib.sha256(uri.encode()).hexdigest()[:16]


class Mirror:
    """Keeps a local folder and a storage URI in step (pull once, push periodically)."""

    def __init__(self, uri: str, local: Path | None = None, push_every_s: float = PUSH_EVERY_S) -> None:
        try:
            from pyarrow import fs
        except ImportError:
            raise ArcrayError(f"storing runs at {uri} needs pyarrow (installed with arcray[ray])") from None
        try:
            self.filesystem, self.remote = fs.FileSystem.from_uri(uri)
        except Exception as error:  # pyarrow raises several types for bad or unreachable URIs
            raise ArcrayError(f"cannot open storage {uri!r} ({error}); check the URI and your credentials") from None
        self.fs = fs
        self.uri = uri
        self.local = local or staging_dir(uri)
        self.push_every_s = push_every_s
        self._last_push = time.monotonic()

    def pull(self) -> Path:
        self.local.mkdir(parents=True, exist_ok=True)
        info = self.filesystem.get_file_info(self.remote)
        if info.type == self.fs.FileType.Directory:
            self.fs.copy_files(self.remote, str(self.local), source_filesystem=self.filesystem,
                               destination_filesystem=self.fs.LocalFileSystem())
        return self.local

    def push(self, *, force: bool = True) -> None:
        if not force and time.monotonic() - self._last_push < self.push_every_s:
            return
        self.filesystem.create_dir(self.remote, recursive=True)
        self.fs.copy_files(str(self.local), self.remote, source_filesystem=self.fs.LocalFileSystem(),
                           destination_filesystem=self.filesystem)
        self._last_push = time.monotonic()
