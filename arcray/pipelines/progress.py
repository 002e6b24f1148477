"""Live progress a person can read: a bar in a terminal, plain lines in Ray job logs, and
Ray application metrics (``ray.util.metrics``) for the dashboard's metrics view.
"""

from __future__ import annotations

import sys
import time
from typing import Any

LOG_EVERY_S = 15.0


class Progress:
    """Counts done work and what it produced (solved tasks, tokens) for one run."""

    def __init__(self, *, stage: str, run: str, total: int, done: int = 0, enabled: bool = True, **counters: int) -> None:
        self.stage, self.run, self.total, self.done = stage, run, total, done
        self.counters = dict(counters)
        self.enabled = enabled
        self._bar = None
        self._last_log = 0.0
        self._metrics = _metrics(stage)
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=done, desc=stage, unit="task", dynamic_ncols=True)
        elif enabled:
            self._log(force=True)

    def advance(self, **increments: int) -> None:
        self.done += 1
        for key, value in increments.items():
            self.counters[key] = self.counters.get(key, 0) + value
        tags = {"stage": self.stage, "run": self.run}
        if self._metrics:
            self._metrics["done"].inc(1, tags=tags)
            for key, value in increments.items():
                if key in self._metrics and value:
                    self._metrics[key].inc(value, tags=tags)
        if self._bar is not None:
            self._bar.set_postfix(refresh=False, **self.counters)
            self._bar.update(1)
        elif self.enabled:
            self._log(force=self.done == self.total)

    def _log(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_log >= LOG_EVERY_S:
            self._last_log = now
            extra = "".join(f", {k} {v}" for k, v in self.counters.items())
            print(f"[{self.stage} {self.run}] {self.done}/{self.total} done{extra}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


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
    }
