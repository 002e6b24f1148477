"""The config parts every backend shares: the base config, retries, the shared rate limit and the
response cache. Each backend's own config class lives beside it (``gemini.py``, ``hf.py``); the
registry (``registry.py``) maps a ``backend`` key to it."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field

from arcray.validation import Strict

RETRYABLE_STATUSES = (408, 429, 500, 502, 503, 504)


def cache_root() -> Path:
    """Where arcray keeps converted models and cached responses (``ARCRAY_CACHE_DIR``)."""
    return Path(os.environ.get("ARCRAY_CACHE_DIR") or "~/.cache/arcray").expanduser()


class RetryConfig(Strict):
    """Exponential backoff with jitter; a server's RetryInfo.retryDelay wins when it is given."""

    max_attempts: int = Field(6, ge=1, le=1000, description="requests per completion, the first included")
    initial_delay_s: float = Field(1.0, ge=0.0, le=3600, description="wait before the first retry")
    max_delay_s: float = Field(60.0, ge=0.0, le=86_400, description="cap on one computed wait")
    multiplier: float = Field(2.0, ge=1.0, le=100, description="growth of the wait per attempt")
    jitter: float = Field(0.5, ge=0.0, le=1.0, description="fraction of the wait drawn at random")
    max_server_delay_s: float = Field(300.0, ge=0.0, le=86_400, description="cap on a server-requested wait; a server "
                                      "asking for longer (a spent daily quota) fails the call at once instead")
    announce_wait_s: float = Field(30.0, ge=0.0, le=86_400, description="a wait at least this long is printed, with its "
                                   "length and how to stop, not only logged")
    retry_statuses: tuple[int, ...] = Field(RETRYABLE_STATUSES, description="HTTP codes worth retrying")
    task_retries: int = Field(30, ge=0, le=100_000, description="retries all the calls for one ARC task may make together "
                              "(a call's first request is not a retry); once spent, a failed call is not retried")


class RateLimitConfig(Strict):
    """One quota shared by every actor of a run (a named Ray actor when Ray is up)."""

    requests_per_minute: int | None = Field(None, ge=1, description="None: no request limit")
    tokens_per_minute: int | None = Field(None, ge=1, description="prompt tokens per minute; None: no limit")
    burst_s: float = Field(
        60.0,
        gt=0.0,
        le=60.0,
        description="seconds of quota that may go out at once (lower smooths the rate; 60 = a whole minute's)",
    )

    @property
    def unlimited(self) -> bool:
        return self.requests_per_minute is None and self.tokens_per_minute is None


class CacheConfig(Strict):
    """The on-disk response cache: re-running an experiment pays nothing for what it already asked."""

    enabled: bool = Field(True, description="false: always ask the backend")
    dir: Path | None = Field(None, description="default: $ARCRAY_CACHE_DIR/responses")

    def resolved_dir(self) -> Path:
        return (self.dir or cache_root() / "responses").expanduser()


class BackendConfig(Strict):
    """Base of every backend's config: which backend, which model."""

    backend: str = Field(description="registered backend name: gemini, hf, ...")
    model: str = Field(description="model name, hub id or local folder")

    def preflight(self) -> None:
        """Fail fast, before cluster work, on what the environment lacks (keys, files)."""
