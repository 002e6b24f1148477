"""Bounded retries with exponential backoff and jitter, deferring to a server's requested delay."""

from __future__ import annotations

import contextvars
import logging
import random
import threading
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from arcray.llm.config import RetryConfig

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class AttemptFailure:
    """Why one attempt failed: ``retryable`` decides whether another attempt is worth it."""

    kind: str  # e.g. "http_429", "timeout", "connection", "malformed_response", "client_error"
    message: str
    retryable: bool
    server_delay_s: float | None = None  # RetryInfo.retryDelay, when the server sent one


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """The value of the first successful attempt, or the last failure; and how many attempts ran."""

    value: T | None
    failure: AttemptFailure | None
    attempts: int

    @property
    def ok(self) -> bool:
        return self.failure is None


def backoff_delay(config: RetryConfig, retry_number: int, rng: random.Random) -> float:
    """Wait before retry ``retry_number`` (1 for the first retry): exponential, capped, jittered."""
    base = min(config.max_delay_s, config.initial_delay_s * config.multiplier ** (retry_number - 1))
    return base * (1.0 - config.jitter * rng.random())


def next_delay(config: RetryConfig, failure: AttemptFailure, retry_number: int, rng: random.Random) -> float:
    """The server's delay when it gave one (capped), else the computed backoff."""
    if failure.server_delay_s is not None:
        return min(failure.server_delay_s, config.max_server_delay_s)
    return backoff_delay(config, retry_number, rng)


class RetryBudget:
    """Retries left to share among every call made for one task (from many threads)."""

    def __init__(self, retries: int) -> None:
        self._left, self._lock = retries, threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True


_TASK_BUDGET: contextvars.ContextVar[RetryBudget | None] = contextvars.ContextVar("arcray_task_retry_budget", default=None)


@contextmanager
def task_retry_budget(retries: int) -> Iterator[None]:
    """Every call made in this context (and the request threads it hands work to) shares ``retries``."""
    token = _TASK_BUDGET.set(RetryBudget(retries))
    try:
        yield
    finally:
        _TASK_BUDGET.reset(token)


ENDPOINT_KINDS = ("unreachable", "rate_limited")  # the endpoint could not serve: not the teacher's failure on a task


def call_with_retries(
    attempt: Callable[[], T],
    classify: Callable[[Exception], AttemptFailure],
    config: RetryConfig,
    *,
    before_attempt: Callable[[], Any] | None = None,
    on_failure: Callable[[AttemptFailure, float], Any] | None = None,
    sleep: Callable[[float], Any] = time.sleep,
    rng: random.Random | None = None,
) -> Outcome[T]:
    """Run ``attempt`` until it returns, a failure is not retryable, or attempts run out.

    ``classify`` turns an exception into an :class:`AttemptFailure`; exceptions it does not
    expect should propagate from it (they are bugs, not weather). ``on_failure(failure, delay)``
    runs before each wait (e.g. to make a shared rate limiter back off).
    """
    rng = rng or random.Random()
    failure: AttemptFailure | None = None
    for number in range(1, config.max_attempts + 1):
        if before_attempt is not None:
            before_attempt()
        try:
            return Outcome(attempt(), None, number)
        except Exception as error:  # classify() re-raises what it does not recognise
            failure = classify(error)
        if not failure.retryable or number == config.max_attempts:
            return Outcome(None, failure, number)
        if failure.server_delay_s is not None and failure.server_delay_s > config.max_server_delay_s:
            # a wait past the cap (a day's quota spent, say) is not worth sleeping through, request after request
            return Outcome(None, AttemptFailure(
                "rate_limited", f"the server asks to wait {failure.server_delay_s:.0f} s, past retry.max_server_delay_s "
                f"({config.max_server_delay_s:g} s): {failure.message}", retryable=False), number)
        budget = _TASK_BUDGET.get()
        if budget is not None and not budget.take():
            return Outcome(None, AttemptFailure(failure.kind, f"{failure.message} (the task's retries, retry.task_retries, "
                                                "are spent)", failure.retryable, failure.server_delay_s), number)
        delay = next_delay(config, failure, number, rng)
        if on_failure is not None:
            on_failure(failure, delay)
        log.info("attempt %d failed (%s); retrying in %.2f s", number, failure.kind, delay)
        sleep(delay)
    raise AssertionError("unreachable: the loop returns on its last attempt")


_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*s\s*$")


def parse_duration(value: Any) -> float | None:
    """Seconds from a google.protobuf.Duration in JSON ("1s", "0.250s"), or None."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):  # {"seconds": 1, "nanos": 5e8}
        return float(value.get("seconds", 0)) + float(value.get("nanos", 0)) / 1e9
    match = _DURATION.match(value) if isinstance(value, str) else None
    return float(match.group(1)) if match else None


def retry_info_delay(error_body: Any) -> float | None:
    """The RetryInfo.retryDelay in a Google API error body ({"error": {"details": [...]}}), if any."""
    error = error_body.get("error", error_body) if isinstance(error_body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    for detail in details if isinstance(details, list) else ():
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            return parse_duration(detail.get("retryDelay"))
    return None


def failed_completion(outcome: Outcome[Any], redact: Callable[[str], str]) -> Any:
    """The typed failed Completion of an outcome that failed: ``retries_exhausted`` when the last
    failure was worth retrying (attempts ran out), else ``client_error``; ``redact`` cleans the message."""
    from arcray.llm.types import Completion

    failure = outcome.failure
    assert failure is not None, "only a failed outcome has a failed completion"
    if failure.kind == "rate_limited":
        kind, message = "rate_limited", failure.message
    elif failure.kind == "connection":
        kind, message = "unreachable", f"gave up after {outcome.attempts} attempts; {failure.message}"
    elif failure.retryable:
        kind, message = "retries_exhausted", f"gave up after {outcome.attempts} attempts; last: {failure.message}"
    else:
        kind, message = "client_error", failure.message
    return Completion.failure(kind, redact(message), attempts=outcome.attempts)
