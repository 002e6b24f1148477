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

    An :class:`ArcrayError` becomes the one line ``NAME: error: …`` (code 2) and Ctrl-C one line
    (code 130), never a traceback; what the run wrote before either is kept.
    """
    import sys

    from arcray.redaction import scrub
    from arcray.text import printable

    try:
        return call()
    except ArcrayError as error:
        print(f"{name}: error: {printable(scrub(str(error)), one_line=True)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{name}: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130
