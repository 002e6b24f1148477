"""One requests-per-minute and tokens-per-minute budget, shared by every caller of a run.

The arithmetic is a pair of token buckets that hand out *reservations*: asking for a request
books it at once and returns how long the caller must wait before sending it. Because the
bucket never blocks, the same object serves one process (:class:`LocalRateLimiter`, under a
lock) and a whole cluster (:class:`RayRateLimiter`, a named Ray actor per run that every actor
finds by name), and 32 actors together stay within the account's quota.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from arcray.llm.config import RateLimitConfig

log = logging.getLogger(__name__)

RAY_NAMESPACE = "arcray"


class TokenBucket:
    """Reservations against per-minute limits; pure arithmetic over a clock you pass in."""

    def __init__(self, limits: RateLimitConfig, now: float) -> None:
        self.limits = limits
        # Capacity: ``burst_s`` seconds of quota (at least one request), so the rate stays
        # close to the setting over any window, not only over whole minutes.
        self._request_capacity = max(1.0, (limits.requests_per_minute or 0) * limits.burst_s / 60.0)
        self._token_capacity = max(1.0, (limits.tokens_per_minute or 0) * limits.burst_s / 60.0)
        self._requests = self._request_capacity if limits.requests_per_minute else 0.0
        self._tokens = self._token_capacity if limits.tokens_per_minute else 0.0
        self._updated = now
        self._paused_until = now

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self._updated = max(self._updated, now)
        if self.limits.requests_per_minute:
            rpm = self.limits.requests_per_minute
            self._requests = min(self._request_capacity, self._requests + elapsed * rpm / 60.0)
        if self.limits.tokens_per_minute:
            tpm = self.limits.tokens_per_minute
            self._tokens = min(self._token_capacity, self._tokens + elapsed * tpm / 60.0)

    def reserve(self, now: float, requests: int = 1, tokens: int = 0) -> float:
        """Book ``requests`` and ``tokens``; return the seconds to wait before using them."""
        self._refill(now)
        wait = max(0.0, self._paused_until - now)
        if self.limits.requests_per_minute:
            rpm = self.limits.requests_per_minute
            self._requests -= min(requests, rpm)
            wait = max(wait, -self._requests * 60.0 / rpm)
        if self.limits.tokens_per_minute and tokens:
            tpm = self.limits.tokens_per_minute
            self._tokens -= min(tokens, tpm)  # a prompt larger than the quota waits a minute, not forever
            wait = max(wait, -self._tokens * 60.0 / tpm)
        return wait

    def settle(self, now: float, tokens: int) -> None:
        """Correct a reservation once the real count is known (positive: used more than booked)."""
        self._refill(now)
        if self.limits.tokens_per_minute:
            self._tokens -= tokens

    def pause(self, now: float, seconds: float) -> None:
        """Hold every reservation for ``seconds`` (the server said the quota is exhausted)."""
        self._paused_until = max(self._paused_until, now + seconds)


class RateLimiter(Protocol):
    """What a backend needs: wait for its turn, then report what it really used."""

    def acquire(self, tokens: int = 0) -> float:
        """Block until one request of ``tokens`` prompt tokens may go; return seconds waited."""
        ...

    def settle(self, tokens: int) -> None:
        """Add ``tokens`` (may be negative) to what the last acquire booked."""
        ...

    def pause(self, seconds: float) -> None:
        """Make every caller wait ``seconds`` (a 429 told us the quota is spent)."""
        ...


class Unlimited:
    """No limit configured."""

    def acquire(self, tokens: int = 0) -> float:
        return 0.0

    def settle(self, tokens: int) -> None:
        return None

    def pause(self, seconds: float) -> None:
        return None


class LocalRateLimiter:
    """A bucket shared by the threads of one process."""

    def __init__(
        self,
        limits: RateLimitConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._bucket = TokenBucket(limits, clock())

    def acquire(self, tokens: int = 0) -> float:
        with self._lock:
            wait = self._bucket.reserve(self._clock(), 1, tokens)
        if wait > 0:
            self._sleep(wait)
        return wait

    def settle(self, tokens: int) -> None:
        with self._lock:
            self._bucket.settle(self._clock(), tokens)

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._bucket.pause(self._clock(), seconds)


class _BucketActor:
    """The Ray actor behind :class:`RayRateLimiter`; its methods never block."""

    def __init__(self, limits: dict[str, Any]) -> None:
        self.limits = RateLimitConfig.model_validate(limits)
        self.bucket = TokenBucket(self.limits, time.monotonic())

    def reserve(self, requests: int, tokens: int) -> float:
        return self.bucket.reserve(time.monotonic(), requests, tokens)

    def settle(self, tokens: int) -> None:
        self.bucket.settle(time.monotonic(), tokens)

    def pause(self, seconds: float) -> None:
        self.bucket.pause(time.monotonic(), seconds)

    def get_limits(self) -> dict[str, Any]:
        return self.limits.model_dump()


class RayRateLimiter:
    """The run's bucket lives in a named Ray actor; callers sleep on their side."""

    def __init__(self, name: str, limits: RateLimitConfig, *, sleep: Callable[[float], Any] = time.sleep) -> None:
        import ray

        self.name = name
        self._ray = ray
        self._sleep = sleep
        actor_class = ray.remote(num_cpus=0, max_concurrency=1)(_BucketActor)
        self.actor = actor_class.options(name=name, namespace=RAY_NAMESPACE, get_if_exists=True).remote(
            limits.model_dump()
        )
        existing = RateLimitConfig.model_validate(ray.get(self.actor.get_limits.remote()))
        if existing != limits:
            log.warning("rate limiter %s already runs with %s; ignoring %s", name, existing, limits)

    def reserve(self, tokens: int = 0) -> float:
        """Book one request without waiting; return the wait (tests and schedulers use this)."""
        return float(self._ray.get(self.actor.reserve.remote(1, tokens)))

    def acquire(self, tokens: int = 0) -> float:
        wait = self.reserve(tokens)
        if wait > 0:
            self._sleep(wait)
        return wait

    def settle(self, tokens: int) -> None:
        self.actor.settle.remote(tokens)

    def pause(self, seconds: float) -> None:
        self.actor.pause.remote(seconds)


_LOCAL: dict[tuple[str, RateLimitConfig], LocalRateLimiter] = {}
_LOCAL_LOCK = threading.Lock()


def limiter_name(scope: str, model: str) -> str:
    return f"ratelimit:{scope}:{model}"


def shared_rate_limiter(limits: RateLimitConfig, *, scope: str, model: str) -> RateLimiter:
    """The limiter every caller with this ``scope`` (a run id) and model shares.

    A Ray actor when Ray is initialized in this process (create it on the driver first, so it
    lives as long as the run), otherwise one per process.
    """
    if limits.unlimited:
        return Unlimited()
    name = limiter_name(scope, model)
    if _ray_is_up():
        return RayRateLimiter(name, limits)
    with _LOCAL_LOCK:
        if (name, limits) not in _LOCAL:
            _LOCAL[name, limits] = LocalRateLimiter(limits)
        return _LOCAL[name, limits]


def _ray_is_up() -> bool:
    ray = sys.modules.get("ray")  # never import Ray here: if nobody did, it is not initialized
    return bool(ray is not None and getattr(ray, "is_initialized", lambda: False)())
