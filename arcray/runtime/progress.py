"""Live progress a person can read: a bar in a terminal, plain lines with an ETA in Ray job logs, and
Ray application metrics (``ray.util.metrics``) for the dashboard's metrics view.

The rate and the ETA count only the items done in this run: work resumed from an earlier run took
no time now, and counting it would promise an end far too early.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from tqdm import tqdm

LOG_EVERY_S = 15.0
# tqdm's own meter (rate and ETA from the items done since `initial`), without the bar, for log files
LOG_LINE = "{desc} {n_fmt}/{total_fmt} {unit}s done, {rate_fmt}, ETA {remaining}{postfix}"


class Progress:
    """Counts done work and what it produced (solved tasks, tokens, errors) for one run.

    ``done`` items were finished by an earlier run (resumed); ``counters`` are totals that
    ``advance`` adds to, ``latest`` values are shown as they were last set (the last error).
    """

    def __init__(self, *, stage: str, run: str, total: int, done: int = 0, unit: str = "task", enabled: bool = True,
                 stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic, **counters: int) -> None:
        self.stage, self.run, self.total, self.done, self.unit = stage, run, total, done, unit
        self.resumed = done
        self.counters: dict[str, int] = dict(counters)
        self.latest: dict[str, Any] = {}
        self.enabled = enabled
        self._stream = stream if stream is not None else sys.stderr
        self._clock = clock
        self._started = clock()
        self._last_log: float | None = None
        self._logged_at_done: int | None = None
        self._metrics: dict[str, Any] | None = None  # made at the first count: Ray may start after the bar
        self._bar = None
        if enabled and self._stream.isatty():
            self._bar = tqdm(total=total, initial=done, desc=stage, unit=unit, dynamic_ncols=True, file=self._stream)
        elif enabled:
            self._log(force=True)

    def advance(self, *, latest: Mapping[str, Any] | None = None, **increments: int) -> None:
        """One item done; ``increments`` add to the counters, ``latest`` replaces shown values."""
        self.done += 1
        self._add(increments, latest, item=True)

    def failed(self, reason: str) -> None:
        """One item that produced no record this time (the next run retries it): counted, its reason shown."""
        self._add({"errors": 1}, {"last_error": " ".join(reason.split())[:60]}, item=False)

    def line(self) -> str:
        """The plain log line: done/total, the rate and the ETA of this run, the counters."""
        shown = [f"{k} {v}" for k, v in (self.counters | self.latest).items()]
        if self.resumed:
            shown.insert(0, f"{self.resumed} resumed")
        text = tqdm.format_meter(self.done, self.total, self._clock() - self._started, prefix=f"[{self.stage} {self.run}]",
                                 unit=self.unit, initial=self.resumed, bar_format=LOG_LINE, postfix=", ".join(shown))
        return " ".join(text.split())  # tqdm pads the rate to a column

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self.enabled and self._logged_at_done != self.done:
            self._log(force=True)  # the last state, whatever the interval: how the run ended

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _add(self, increments: Mapping[str, int], latest: Mapping[str, Any] | None, *, item: bool) -> None:
        for key, value in increments.items():
            self.counters[key] = self.counters.get(key, 0) + value
        self.latest.update(latest or {})
        if self._metrics is None:
            self._metrics = _metrics(self.stage) or {}
        if self._metrics:
            tags = {"stage": self.stage, "run": self.run}
            if item:
                self._metrics["done"].inc(1, tags=tags)
            for key, value in increments.items():
                if key in self._metrics and value:
                    self._metrics[key].inc(value, tags=tags)
        if self._bar is not None:
            self._bar.set_postfix(refresh=False, **self.counters, **self.latest)
            if item:
                self._bar.update(1)
        elif self.enabled:
            self._log(force=item and self.done == self.total)

    def _log(self, force: bool = False) -> None:
        now = self._clock()
        if force or self._last_log is None or now - self._last_log >= LOG_EVERY_S:
            self._last_log, self._logged_at_done = now, self.done
            print(self.line(), file=self._stream, flush=True)


def _metrics(stage: str) -> dict[str, Any] | None:
    """Counters exported by Ray (dashboard → Metrics), when the driver is connected to Ray."""
    try:
        import ray
        from ray.util.metrics import Counter
    except ImportError:
        return None
    if not ray.is_initialized():
        return None
    keys = ("stage", "run")
    return {
        "done": Counter("arcray_items_done", "work items finished (tasks, prompts)", tag_keys=keys),
        "solved": Counter("arcray_tasks_solved", "ARC tasks solved on their test outputs", tag_keys=keys),
        "tokens": Counter("arcray_tokens", "tokens spent (prompt + completion)", tag_keys=keys),
        "errors": Counter("arcray_items_failed", "work items that produced no record this time (retried next run)",
                          tag_keys=keys),
    }
