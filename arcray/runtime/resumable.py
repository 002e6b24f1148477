"""The loop every Ray Data stage runs in its driver: rows stream back from the workers, and each
finished item's record is appended to the run's JSONL file once, as soon as it is in.

What makes a stage resumable lives here, once: records are flushed line by line (a crash loses
only work in flight), an item already recorded is never written again (``done`` holds the earlier
runs' records too), a row that failed leaves its item for the next run, and a Ray failure ends the
stage with one line that says what was kept and how to go on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from arcray.errors import ArcrayError
from arcray.jsonl import Record
from arcray.runtime.progress import Progress
from arcray.runtime.rundir import RunDir

R = TypeVar("R", bound=Record)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
RAISED = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)\w*): (\S.*)$")  # a traceback's last line
Row = Mapping[str, Any]


@dataclass(frozen=True)
class Failed:
    """A row that produced no record this time: its item is retried by the next run."""

    key: str
    reason: str


def append_each_once(rows: Iterable[Row], *, run: RunDir, records: str, done: dict[str, R],
                     parse: Callable[[Row], R | Failed | None], key: Callable[[R], str], progress: Progress,
                     tally: Callable[[R], Mapping[str, int]] | None = None,
                     latest: Callable[[R], Mapping[str, Any]] | None = None) -> set[str]:
    """Append each row's record to ``run``'s file ``records`` once; return the keys that failed this time.

    ``parse`` turns a row into its record, a :class:`Failed`, or None (nothing to record yet: a prompt
    whose other samples are still coming). A record whose ``key`` is in ``done`` is skipped; one
    appended joins ``done``. ``progress`` advances by one per record (``tally``: what it adds to the
    counters, ``latest``: values shown as they are) and is closed at the end.
    """
    failed: set[str] = set()
    with run.appender(records) as appender, progress:
        try:
            for row in rows:
                parsed = parse(row)
                if parsed is None:
                    continue
                if isinstance(parsed, Failed):
                    if parsed.key not in failed:
                        failed.add(parsed.key)
                        progress.failed(parsed.reason)
                    continue
                name = key(parsed)
                if name in done:
                    continue  # never write an item twice
                appender.append(parsed.to_json())
                done[name] = parsed
                progress.advance(latest=latest(parsed) if latest else None, **(tally(parsed) if tally else {}))
                run.sync(force=False)
        except ArcrayError:
            raise
        except Exception as error:  # Ray gave up on an item or an actor: what was recorded stays
            raise ArcrayError(f"{progress.stage} stopped ({_reason(error)}); the {len(done)} "
                              f"{progress.unit}(s) recorded in {run.file(records)} are kept: re-run the same command "
                              "to resume") from None
    return failed


def _reason(error: BaseException) -> str:
    """``Type: first line`` of what went wrong; for a worker's exception, the worker's own.

    Ray hands the driver a RayTaskError whose text is the worker's formatted traceback (colored), with
    the exception the user code raised only in that text (Ray Data wraps it in a UserCodeException
    first): the first ``Type: message`` line of it is the reason a person needs, not ``ray::Map(...)``.
    """
    text = ANSI.sub("", str(error)).strip()
    if _is_ray_task_error(error):
        for line in text.splitlines():
            raised = RAISED.match(line)
            if raised:
                return f"{raised[1].rsplit('.', 1)[-1]}: {raised[2]}"
    return f"{type(error).__name__}: {text.splitlines()[0] if text else 'no detail'}"


def _is_ray_task_error(error: BaseException) -> bool:
    try:
        from ray.exceptions import RayTaskError
    except ImportError:
        return False
    return isinstance(error, RayTaskError)
