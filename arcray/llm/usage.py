"""Token accounting for a run, and what it cost by a price table."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from arcray.llm.types import Completion


class Price(BaseModel):
    """US dollars per million tokens; completion tokens include thinking tokens."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    prompt_per_million: float = Field(ge=0.0)
    completion_per_million: float = Field(ge=0.0)


# Gemini Developer API list prices (paid tier, prompts up to 200k tokens), mid-2025.
# Check https://ai.google.dev/gemini-api/docs/pricing and override in config when they change.
DEFAULT_GEMINI_PRICES: dict[str, Price] = {
    "gemini-2.5-pro": Price(prompt_per_million=1.25, completion_per_million=10.0),
    "gemini-2.5-flash": Price(prompt_per_million=0.30, completion_per_million=2.50),
    "gemini-2.5-flash-lite": Price(prompt_per_million=0.10, completion_per_million=0.40),
    "gemini-2.0-flash": Price(prompt_per_million=0.10, completion_per_million=0.40),
    "gemini-2.0-flash-lite": Price(prompt_per_million=0.075, completion_per_million=0.30),
}

FREE = Price(prompt_per_million=0.0, completion_per_million=0.0)


@dataclass
class Usage:
    """Counts over the completions a backend produced; cached ones cost nothing."""

    completions: int = 0
    failures: int = 0
    requests: int = 0  # attempts sent, retries included
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: int = 0  # completions served from the cache (not counted above)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, completion: Completion) -> None:
        with self._lock:
            if completion.cached:
                self.cached += 1
                return
            self.completions += 1
            self.failures += not completion.ok
            self.requests += completion.attempts
            self.prompt_tokens += completion.prompt_tokens
            self.completion_tokens += completion.completion_tokens

    def add_all(self, completions: Iterable[Completion]) -> None:
        for completion in completions:
            self.add(completion)

    def merge(self, other: Usage) -> Usage:
        """A new Usage summing both (e.g. the usage of every actor of a run)."""
        return Usage(**{name: getattr(self, name) + getattr(other, name) for name in _COUNTS})

    def cost(self, price: Price | None) -> float | None:
        """Estimated US dollars, or None when the model has no price in the table."""
        if price is None:
            return None
        return (
            self.prompt_tokens * price.prompt_per_million + self.completion_tokens * price.completion_per_million
        ) / 1e6

    def to_dict(self, price: Price | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {name: getattr(self, name) for name in _COUNTS}
        data["total_tokens"] = self.total_tokens
        data["estimated_cost_usd"] = self.cost(price)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Usage:
        return cls(**{k: v for k, v in data.items() if k in _COUNTS})


_COUNTS = tuple(f.name for f in fields(Usage) if not f.name.startswith("_"))


def price_for(model: str, prices: dict[str, Price]) -> Price | None:
    """The price of the longest table entry ``model`` starts with (dated variants match); None without one."""
    matches = [name for name in prices if model.startswith(name)]
    return prices[max(matches, key=len)] if matches else None
