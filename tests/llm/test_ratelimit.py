"""The shared rate limit: bucket arithmetic, the in-process limiter, and a named Ray actor."""

from __future__ import annotations

import pytest

from arcray.llm.config import RateLimitConfig
from arcray.llm.ratelimit import (
    LocalRateLimiter,
    RayRateLimiter,
    TokenBucket,
    Unlimited,
    shared_rate_limiter,
)


def test_requests_per_minute():
    bucket = TokenBucket(RateLimitConfig(requests_per_minute=60), now=0.0)
    assert [bucket.reserve(0.0) for _ in range(60)] == [0.0] * 60
    assert bucket.reserve(0.0) == pytest.approx(1.0)  # one request per second once the burst is spent
    assert bucket.reserve(0.0) == pytest.approx(2.0)
    assert bucket.reserve(10.0) == pytest.approx(0.0)  # ten seconds refilled ten requests


def test_tokens_per_minute_and_settling():
    bucket = TokenBucket(RateLimitConfig(tokens_per_minute=1000), now=0.0)
    assert bucket.reserve(0.0, tokens=600) == 0.0
    assert bucket.reserve(0.0, tokens=600) == pytest.approx(12.0)  # 200 tokens short at 1000/min
    bucket.settle(0.0, tokens=-400)  # the real prompts were smaller than estimated
    assert bucket.reserve(0.0, tokens=300) == pytest.approx(6.0)  # 1000 - 1200 + 400 - 300 = -100
    assert bucket.reserve(0.0, tokens=10**9) > 0  # larger than the quota: waits, but not forever
    assert bucket.reserve(0.0, tokens=10**9) < 3 * 60


def test_a_short_burst_smooths_the_rate():
    bucket = TokenBucket(RateLimitConfig(requests_per_minute=60, burst_s=2.0), now=0.0)
    assert [bucket.reserve(0.0) for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0)]


def test_pause_holds_every_reservation():
    bucket = TokenBucket(RateLimitConfig(requests_per_minute=1000), now=0.0)
    bucket.pause(0.0, 5.0)
    assert bucket.reserve(1.0) == pytest.approx(4.0)
    assert bucket.reserve(6.0) == 0.0


def test_local_limiter_sleeps_what_the_bucket_says():
    clock = [0.0]
    slept: list[float] = []
    limiter = LocalRateLimiter(RateLimitConfig(requests_per_minute=2), clock=lambda: clock[0], sleep=slept.append)
    assert [limiter.acquire() for _ in range(3)] == [0.0, 0.0, pytest.approx(30.0)]
    assert slept == [pytest.approx(30.0)]


def test_one_local_limiter_per_scope_and_model(monkeypatch):
    import arcray.llm.ratelimit as ratelimit

    monkeypatch.setattr(ratelimit, "_ray_is_up", lambda: False)  # the branch without Ray, whatever ran before
    limits = RateLimitConfig(requests_per_minute=10)
    a = shared_rate_limiter(limits, scope="run-a", model="m")
    assert shared_rate_limiter(limits, scope="run-a", model="m") is a
    assert shared_rate_limiter(limits, scope="run-b", model="m") is not a
    assert isinstance(shared_rate_limiter(RateLimitConfig(), scope="run-a", model="m"), Unlimited)


@pytest.fixture(scope="module")
def ray_cluster(local_ray):
    """The session's local Ray (tests/conftest.py): one Ray for the whole run."""
    return local_ray


def test_ray_actors_share_one_quota(ray_cluster):
    ray = ray_cluster
    limits = RateLimitConfig(requests_per_minute=3)  # a request every 20 s once 3 are spent
    driver_side = shared_rate_limiter(limits, scope="ray-test", model="gemini-x")  # the driver creates it
    assert isinstance(driver_side, RayRateLimiter)

    def reserve_three() -> list[float]:
        limiter = shared_rate_limiter(limits, scope="ray-test", model="gemini-x")
        assert isinstance(limiter, RayRateLimiter)
        return [limiter.reserve() for _ in range(3)]

    remote = ray.remote(num_cpus=1)(reserve_three)
    waits = sorted(wait for batch in ray.get([remote.remote(), remote.remote()]) for wait in batch)
    # Two processes asked for 6 requests against one bucket of 3: three go now, the rest queue up
    # 20 s apart. Separate buckets would have let all six go at once.
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] > 5
    assert waits[4] - waits[3] > 15 and waits[5] - waits[4] > 15
