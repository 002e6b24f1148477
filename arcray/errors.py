"""The one error type a user sees: a single line naming the problem and the fix."""

from __future__ import annotations

from collections.abc import Callable


class ArcrayError(Exception):
    """A problem with the user's input or environment, explained in one line.

    The message says what is wrong and what to do about it. The CLI prints it
    without a traceback; library callers may catch it like any exception.
    """


class ConfigError(ArcrayError, ValueError):
    """A configuration value is missing, unknown or out of range."""


class TaskFormatError(ArcrayError, ValueError):
    """An ARC task file does not have the shape the ARC format requires."""


def did_you_mean(name: str, choices: list[str] | tuple[str, ...]) -> str:
    """Return ' (did you mean X?)' for the closest choice, or '' when none is close."""
    import difflib

    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def warn(message: str) -> None:
    """One warning line on stderr: something was worked around and the user should know."""
    import sys

    from arcray.redaction import scrub
    from arcray.text import printable

    print(f"arcray: warning: {printable(scrub(message), one_line=True)}", file=sys.stderr, flush=True)


def exit_code(name: str, call: Callable[[], int]) -> int:
    """Run ``call`` for a command or script called ``name``; its exit code.

    An :class:`ArcrayError`, or a file-system error (a full disk, a read-only folder, a folder
    where a file should be: :func:`disk_error`), becomes the one line ``NAME: error: …`` (code 2)
    and Ctrl-C one line (code 130), never a traceback; what the run wrote before either is kept.
    """
    import sys

    from arcray.redaction import scrub
    from arcray.text import printable

    try:
        return call()
    except (ArcrayError, OSError) as error:
        line = str(error) if isinstance(error, ArcrayError) else disk_error(error)
        if line is None:
            raise
        print(f"{name}: error: {printable(scrub(line), one_line=True)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{name}: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130


_KEPT = "everything written before it is kept"
_DISK_FIXES = {
    "ENOSPC": "no space left on the disk holding {file}; {kept}: free some space and re-run the same command to resume",
    "EDQUOT": "the disk quota is used up where {file} is; {kept}: free some space and re-run the same command to resume",
    "EROFS": "{file} is on a read-only file system; {kept}: pass an --out on a writable disk, or make it writable, and re-run",
    "EACCES": "permission denied for {file}; {kept}: make it writable by this user, or pass another --out, and re-run",
    "EPERM": "permission denied for {file}; {kept}: make it writable by this user, or pass another --out, and re-run",
    "EISDIR": "{file} is a folder where a file should be; {kept}: move the folder aside and re-run the same command",
    "ENOTDIR": "a file stands where a folder should be in {file}; {kept}: move the file aside and re-run the same command",
    "EEXIST": "{file} already exists and is not a folder arcray can use; pass another --out",
    "ENAMETOOLONG": "the path {file} is too long; pass a shorter --out",
    "EIO": "the disk failed reading or writing {file}; {kept}: check the disk and re-run the same command to resume",
}


def disk_error(error: OSError) -> str | None:
    """One line for a file-system error on a path (the disk, not the code, is at fault), with the
    fix; None for any other OSError (a network error, say), which is not the user's to fix."""
    import errno

    code = errno.errorcode.get(error.errno or 0, "")
    target = error.filename if error.filename is not None else None
    if code not in _DISK_FIXES or (target is None and code not in ("ENOSPC", "EDQUOT", "EROFS", "EIO")):
        return None
    file = repr(str(target)) if target is not None else "the output"
    return _DISK_FIXES[code].format(file=file, kept=_KEPT)
