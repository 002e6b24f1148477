"""What every backend that calls a remote API shares (Gemini, OpenAI-compatible servers).

A thread pool of requests, the run's shared rate limit, arcray's own retry loop around each
request (the SDKs' retries stay off), the key redacted from every message, and a failure turned
into a typed :class:`Completion` instead of an exception. A subclass sets up its client and says
how one request is made, classified and parsed.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
import contextvars
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from arcray.errors import warn
from arcray.llm.backend import Backend
from arcray.llm.config import RateLimitConfig, RetryConfig
from arcray.llm.ratelimit import RateLimiter, shared_rate_limiter
from arcray.llm.retry import AttemptFailure, Outcome, call_with_retries
from arcray.redaction import register as register_secret

log = logging.getLogger(__name__)
T = TypeVar("T")


class RemoteConfig(Protocol):
    """The fields a remote backend's config has (each backend declares them with its own defaults)."""

    model: str
    retry: RetryConfig
    rate_limit: RateLimitConfig
    max_concurrency: int


class RemoteBackend(Backend):
    """A backend whose completions are requests to a server; calls from many threads run at once."""

    concurrent = True  # a thread pool of requests

    def __init__(self, config: RemoteConfig, *, secret: str | None, run_id: str | None) -> None:
        """``secret``: the key, redacted from every message; ``run_id`` names the run's shared rate limit."""
        super().__init__(config)
        self._retry: RetryConfig = config.retry
        self._secret = secret
        register_secret(secret, f"{type(self).__name__} key")  # scrubbed from whatever this process writes
        self._limiter: RateLimiter = shared_rate_limiter(config.rate_limit, scope=run_id or "default", model=config.model)
        self._pool = ThreadPoolExecutor(config.max_concurrency, thread_name_prefix=self.name)
        self._rng = random.Random()
        self._closed = False

    def _submit(self, function: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``function`` on the request pool in the caller's context (its task's retry budget goes along)."""
        return self._pool.submit(contextvars.copy_context().run, function, *args)

    def _classify(self, error: Exception) -> AttemptFailure:
        """What one failed request means: retryable or not, and the server's requested wait."""
        raise error

    def _with_retries(self, attempt: Callable[[], T], estimate: int) -> Outcome[T]:
        """``attempt`` under the shared rate limit (``estimate`` prompt tokens booked) and the retry loop."""
        return call_with_retries(attempt, self._classify, self._retry,
                                 before_attempt=lambda: self._limiter.acquire(estimate),
                                 on_failure=self._on_failure, rng=self._rng)

    def _settle(self, prompt_tokens: int, estimate: int) -> None:
        """Correct the rate limit's booking once the server says how many prompt tokens it counted."""
        self._limiter.settle(prompt_tokens - estimate)

    def _on_failure(self, failure: AttemptFailure, delay: float) -> None:
        if failure.server_delay_s is not None:
            self._limiter.pause(delay)  # the quota (or capacity) is spent for everyone, not only this thread
        log.info("%s %s: %s; retrying in %.2f s", self.name, self.config.model, self._redact(failure.message), delay)
        if delay >= self._retry.announce_wait_s:  # a person watching should know why nothing moves, and how to stop
            warn(f"{self.name} {self.config.model}: waiting {delay:.0f} s before retrying ({self._redact(failure.message)[:200]}); "
                 f"Ctrl-C stops (re-running the same command resumes); retry.max_server_delay_s "
                 f"({self._retry.max_server_delay_s:g} s) caps a server's wait, retry.max_delay_s our own")

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "[redacted]") if self._secret else text

    def _close_client(self) -> None:
        """Release the SDK client."""

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._close_client()

