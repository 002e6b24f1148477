"""The Gemini teacher: the google-genai SDK, with our own retries, a shared rate limit and typed failures.

The SDK's own retry stays off: our loop (``arcray.llm.retry``) honours the server's
``RetryInfo.retryDelay``, tells the run's shared limiter to pause on a 429, and turns the last
failure into a recorded :class:`Completion` instead of an exception. The endpoint follows the
SDK's ``GOOGLE_GEMINI_BASE_URL``; the API key comes from ``GEMINI_API_KEY`` or ``GOOGLE_API_KEY``
and is redacted from every message we record.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Literal

from pydantic import Field

from arcray.errors import ConfigError
from arcray.llm.backend import NormalizedPrompt
from arcray.llm.config import BackendConfig, RateLimitConfig, RetryConfig
from arcray.llm.deadline import deadline, deadline_transport
from arcray.llm.remote import RemoteBackend
from arcray.llm.retry import AttemptFailure, failed_completion, retry_info_delay
from arcray.llm.types import Completion, SamplingParams
from arcray.llm.usage import DEFAULT_GEMINI_PRICES, Price, price_for

log = logging.getLogger(__name__)

API_KEY_VARS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
_BLOCK_REASONS = {
    "safety",
    "recitation",
    "blocklist",
    "prohibited_content",
    "spii",
    "image_safety",
    "image_prohibited_content",
}
_CHARS_PER_TOKEN = 4  # rough prompt-size estimate for the token budget, corrected after the answer


def api_key_from_env() -> str:
    """The API key from the environment, or one ConfigError saying what to set."""
    for name in API_KEY_VARS:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    raise ConfigError(
        "no Gemini API key: set GEMINI_API_KEY (or GOOGLE_API_KEY) in the environment of every node "
        "(create one at https://aistudio.google.com/apikey)"
    )


class GeminiConfig(BackendConfig):
    """The Gemini teacher through the google-genai SDK (key from GEMINI_API_KEY or GOOGLE_API_KEY)."""

    backend: Literal["gemini"] = "gemini"
    model: str = "gemini-2.5-flash"
    timeout_s: float = Field(120.0, gt=0.0, le=3600, description="per-request timeout")
    max_concurrency: int = Field(8, ge=1, description="requests in flight per backend instance")
    thinking_budget: int | None = Field(
        None, ge=-1, description="thinking tokens; 0 off, -1 dynamic, None: the model's default"
    )
    retry: RetryConfig = RetryConfig()
    rate_limit: RateLimitConfig = RateLimitConfig()
    prices: dict[str, Price] = Field(default_factory=lambda: dict(DEFAULT_GEMINI_PRICES))

    def preflight(self) -> None:
        api_key_from_env()


def endpoint() -> str:
    """Where the SDK sends requests: GOOGLE_GEMINI_BASE_URL, else Google's API."""
    return os.environ.get("GOOGLE_GEMINI_BASE_URL") or "https://generativelanguage.googleapis.com"


def _transport_errors() -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    """(timeouts, other transport errors) of whichever HTTP library the SDK uses."""
    timeouts: list[type[Exception]] = []
    transport: list[type[Exception]] = []
    for module_name in ("httpx2", "httpx"):
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        timeouts.append(module.TimeoutException)
        transport.append(module.TransportError)
    return tuple(timeouts), tuple(transport)


class GeminiBackend(RemoteBackend):
    """``n`` requests per prompt (sample ``i`` gets seed ``seed + i``), sent by a thread pool."""

    name = "gemini"

    def __init__(self, config: GeminiConfig, *, run_id: str | None = None) -> None:
        api_key = api_key_from_env()
        try:
            from google import genai
            from google.genai import errors, types
        except ImportError:
            raise ConfigError("the gemini backend needs google-genai: pip install 'arcray[gemini]'") from None
        super().__init__(config, secret=api_key, run_id=run_id)
        self.config: GeminiConfig = config
        self._types = types
        self._errors = errors
        self._timeouts, self._transport = _transport_errors()
        # retry_options=None: the SDK sends each request once; call_with_retries owns retrying.
        # timeout_s is a deadline for the whole request, not per read: arcray.llm.deadline
        transport = deadline_transport()
        http_options = types.HttpOptions(timeout=int(config.timeout_s * 1000), retry_options=None,
                                         client_args={"transport": transport} if transport is not None else None)
        self._client = genai.Client(api_key=api_key, http_options=http_options)

    @property
    def identity(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.config.model, "thinking_budget": self.config.thinking_budget}

    @property
    def price(self) -> Price | None:
        return price_for(self.config.model, self.config.prices)

    def _generate(
        self, prompts: list[NormalizedPrompt], params: SamplingParams, first_sample: int
    ) -> list[list[Completion]]:
        if params.ignore_eos:
            raise ConfigError("ignore_eos is for local models; Gemini always stops at its end of turn: unset it")
        futures = [
            [self._submit(self._complete, prompt, params, first_sample + j) for j in range(params.n)]
            for prompt in prompts
        ]
        return [[future.result() for future in row] for row in futures]

    # -- one completion ------------------------------------------------------------------
    def _complete(self, prompt: NormalizedPrompt, params: SamplingParams, sample_index: int) -> Completion:
        contents, system = self._contents(prompt)
        request_config = self._request_config(params, sample_index, system)
        estimate = 1 + sum(len(part.text or "") for c in contents for part in c.parts or []) // _CHARS_PER_TOKEN

        def attempt() -> Any:
            with deadline(self.config.timeout_s):
                return self._client.models.generate_content(
                    model=self.config.model, contents=contents, config=request_config
                )

        outcome = self._with_retries(attempt, estimate)
        if outcome.failure is not None:
            return failed_completion(outcome, self._redact)
        completion = self._parse(outcome.value, outcome.attempts)
        self._settle(completion.prompt_tokens, estimate)
        return completion

    def _contents(self, prompt: NormalizedPrompt) -> tuple[list[Any], str | None]:
        types = self._types
        if isinstance(prompt, str):
            return [types.Content(role="user", parts=[types.Part(text=prompt)])], None
        system = "\n\n".join(m["content"] for m in prompt if m["role"] == "system") or None
        contents = [
            types.Content(role="model" if m["role"] == "assistant" else "user", parts=[types.Part(text=m["content"])])
            for m in prompt
            if m["role"] != "system"
        ]
        if not contents:
            raise ConfigError("a Gemini prompt needs at least one user message besides the system message")
        return contents, system

    def _request_config(self, params: SamplingParams, sample_index: int, system: str | None) -> Any:
        types = self._types
        thinking = (
            types.ThinkingConfig(thinking_budget=self.config.thinking_budget)
            if self.config.thinking_budget is not None
            else None
        )
        return types.GenerateContentConfig(
            temperature=params.temperature,
            top_p=params.top_p,
            max_output_tokens=params.max_new_tokens,
            stop_sequences=list(params.stop) or None,
            seed=None if params.seed is None else params.seed + sample_index,
            candidate_count=1,
            system_instruction=system,
            thinking_config=thinking,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),  # no tools here
        )

    def _classify(self, error: Exception) -> AttemptFailure:
        from pydantic import ValidationError

        retry = self.config.retry
        if isinstance(error, self._errors.APIError):
            message = f"HTTP {error.code} {error.status or ''}: {error.message or error.details}".replace("  ", " ")
            if error.code in retry.retry_statuses:
                return AttemptFailure(
                    f"http_{error.code}", message, retryable=True, server_delay_s=retry_info_delay(error.details)
                )
            return AttemptFailure("client_error", message, retryable=False)
        if isinstance(error, self._timeouts):
            return AttemptFailure("timeout", f"no answer within {self.config.timeout_s:g} s", retryable=True)
        if isinstance(error, self._transport):
            return AttemptFailure("connection", f"cannot reach {endpoint()} ({type(error).__name__}: {error})", retryable=True)
        if isinstance(error, (json.JSONDecodeError, self._errors.UnknownApiResponseError, ValidationError)):
            return AttemptFailure("malformed_response", f"unreadable response: {str(error)[:200]}", retryable=True)
        raise error

    def _parse(self, response: Any, attempts: int) -> Completion:
        usage = response.usage_metadata
        tokens = {
            "prompt_tokens": (usage.prompt_token_count or 0) if usage else 0,
            "completion_tokens": ((usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0))
            if usage
            else 0,
            "attempts": attempts,
        }
        if not response.candidates:
            feedback = response.prompt_feedback
            reason = _name(feedback.block_reason) if feedback and feedback.block_reason else None
            if reason:
                detail = f": {feedback.block_reason_message}" if feedback.block_reason_message else ""
                return Completion.failure("blocked", f"prompt blocked ({reason}){detail}", **tokens)
            return Completion.failure("no_candidates", "the response had no candidates and no block reason", **tokens)
        candidate = response.candidates[0]
        finish = _name(candidate.finish_reason) if candidate.finish_reason else "stop"
        finish = {"max_tokens": "length"}.get(finish, finish)
        parts = candidate.content.parts if candidate.content and candidate.content.parts else []
        text = "".join(part.text for part in parts if part.text and not part.thought)
        if text:
            return Completion(text=text, finish_reason=finish, **tokens)
        if finish in _BLOCK_REASONS:
            return Completion.failure("blocked", f"answer blocked (finish reason {finish})", **tokens)
        kinds = sorted({key for part in parts for key, value in part if value is not None}) or ["none"]
        return Completion.failure(
            "no_text",
            f"the answer had no text part (parts: {', '.join(kinds)}; finish reason {finish}); "
            "if thinking used the budget, raise max_new_tokens or set thinking_budget",
            **tokens,
        )

    def _close_client(self) -> None:
        self._client.close()


def _name(enum_or_text: Any) -> str:
    return str(getattr(enum_or_text, "value", enum_or_text)).lower()
