"""The one generation interface every backend implements.

Lifecycle: build with a validated config (``get_backend`` does it), call :meth:`Backend.generate`
any number of times, read :attr:`Backend.usage`, then :meth:`Backend.close`. ``generate`` never
raises for one bad prompt: a failed completion carries ``error_kind`` and the run goes on.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from arcray.errors import ConfigError
from arcray.llm.config import BackendConfig
from arcray.llm.types import Completion, Prompt, SamplingParams, normalize_prompt
from arcray.llm.usage import FREE, Price, Usage

NormalizedPrompt = str | tuple[dict[str, str], ...]


class Backend(ABC):
    """A model that completes prompts. Subclasses implement :meth:`_generate`."""

    name: ClassVar[str]
    # Whether calls from many threads at once run at once (a remote API's connection pool); a
    # local engine that runs one batch at a time says False and is batched by get_backend.
    concurrent: ClassVar[bool] = False
    # Whether it can keep sampling to a grammar (SamplingParams.grammar): local engines can.
    constrains: ClassVar[bool] = False

    def __init__(self, config: BackendConfig) -> None:
        self.config = config
        self.usage = Usage()

    @property
    def identity(self) -> dict[str, Any]:
        """What determines this backend's answers, besides prompt and sampling (cache keys)."""
        return {"backend": self.name, "model": self.config.model}

    @property
    def price(self) -> Price | None:
        """Price per token for the cost estimate; None when unknown. Local models are free."""
        return FREE

    def generate(
        self,
        prompts: Sequence[Prompt],
        params: SamplingParams | None = None,
        *,
        first_sample: int = 0,
    ) -> list[list[Completion]]:
        """For each prompt, ``params.n`` completions: samples ``first_sample`` .. ``first_sample + n - 1``.

        ``first_sample`` lets a caller extend an earlier set of samples without repeating it
        (with a seed, sample ``i`` is the same whichever call produces it, where the backend allows).
        """
        params = params or SamplingParams()
        if isinstance(prompts, str):
            prompts = [prompts]
        if params.grammar is not None and not self.constrains:
            raise ConfigError(
                f"the {self.name} backend cannot keep its answers to a grammar; use a local model "
                "(backend: hf or vllm) or turn the grammar off"
            )
        normalized = [normalize_prompt(prompt) for prompt in prompts]
        if not normalized:
            return []
        results = self._generate(normalized, params, first_sample)
        if len(results) != len(normalized) or any(len(r) != params.n for r in results):
            raise RuntimeError(f"{type(self).__name__} returned the wrong number of completions")
        self._account(results)
        return results

    def _account(self, results: list[list[Completion]]) -> None:
        for completions in results:
            self.usage.add_all(completions)

    @abstractmethod
    def _generate(
        self, prompts: list[NormalizedPrompt], params: SamplingParams, first_sample: int
    ) -> list[list[Completion]]:
        """Generate ``params.n`` completions for each (already validated) prompt."""

    def report(self) -> dict[str, Any]:
        """Usage and estimated cost so far, for a run's summary."""
        return {**self.identity, "usage": self.usage.to_dict(self.price)}

    def close(self) -> None:
        """Release clients, threads and memory. Safe to call twice."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class WrappedBackend(Backend):
    """A backend in front of another (the response cache, the batching queue): it answers to the
    inner backend's name, identity and price, and shares its usage tally."""

    def __init__(self, inner: Backend) -> None:
        super().__init__(inner.config)
        self.usage = inner.usage  # one tally: what the inner backend generated, plus the wrapper's own
        self.inner = inner
        self.name = inner.name  # type: ignore[misc]

    @property
    def constrains(self) -> bool:  # type: ignore[override]
        return self.inner.constrains

    @property
    def identity(self) -> dict[str, Any]:
        return self.inner.identity

    @property
    def price(self) -> Price | None:
        return self.inner.price

    def close(self) -> None:
        self.inner.close()
