"""Writing a file so that a reader never sees half of it (the one place arcray does this)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8, scrubbed of secrets: :mod:`arcray.redaction`) to ``path``: a reader
    sees the old file or the whole new one.

    The bytes go to a uniquely named temporary file beside ``path`` (same file system, so two
    writers never share one), which ``os.replace`` then renames into place atomically; on any
    failure the temporary file is removed and ``path`` is untouched.
    """
    from arcray.redaction import scrub

    if isinstance(data, str):
        data = scrub(data)
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:40]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
