"""A model someone already serves with an OpenAI-compatible API: ``vllm serve``, SGLang, Ray Serve LLM,
``transformers serve``; through the official ``openai`` SDK, with our retries, the shared rate limit and
typed failures, exactly as the Gemini backend has them.

The SDK's own retries are off (``max_retries=0``): our loop (``arcray.llm.retry``) waits what a
``Retry-After`` header asks, pauses the run's shared limiter, and turns the last failure into a
recorded :class:`Completion`. The key is read from the variable ``api_key_env`` names, passed to
the SDK alone, and redacted from every message we record. This file is not called ``openai.py``,
which would shadow the SDK.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import time
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, field_validator

from arcray.errors import ConfigError
from arcray.llm.backend import NormalizedPrompt
from arcray.llm.config import BackendConfig, RateLimitConfig, RetryConfig
from arcray.llm.deadline import deadline, deadline_transport
from arcray.llm.remote import RemoteBackend
from arcray.llm.retry import AttemptFailure, failed_completion
from arcray.llm.types import Completion, SamplingParams
from arcray.llm.usage import Price, price_for

log = logging.getLogger(__name__)

BASE_URL_VAR = "OPENAI_BASE_URL"
NO_KEY = "no-key"  # what the SDK sends to a server that needs none (it refuses an empty key)
_CHARS_PER_TOKEN = 4  # rough prompt-size estimate for the token budget, corrected after the answer
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_base_url(value: str) -> str:
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL such as http://127.0.0.1:8000/v1, got {public_url(url)!r}")
    return url


def public_url(url: str) -> str:
    """The URL without user, password, query or fragment: safe to record."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OpenAIConfig(BackendConfig):
    """A model behind an OpenAI-compatible server (vllm serve, SGLang, Ray Serve LLM, transformers serve)."""

    backend: Literal["openai"] = "openai"
    model: str = Field(description="the served model name: vllm serve's --served-model-name, else what it serves")
    base_url: str | None = Field(
        None, description="the API root, e.g. http://127.0.0.1:8000/v1; None: $OPENAI_BASE_URL on each node"
    )
    api_key_env: str | None = Field(
        "OPENAI_API_KEY",
        description="environment variable holding the key; a loopback base_url may go without; None: send no key",
    )
    timeout_s: float = Field(600.0, gt=0.0, le=3600, description="per-request timeout (one request may carry all n samples)")
    max_concurrency: int = Field(16, ge=1, description="requests in flight per backend instance")
    n_in_one_request: bool = Field(
        True,
        description="ask a prompt's n samples in one request (vLLM and SGLang share its prefill); a server that "
        "answers fewer choices (transformers serve ignores n) gets the rest one request each. False: one request "
        "per sample, sample i seeded seed + i",
    )
    text_prompts: Literal["completions", "chat"] = Field(
        "completions",
        description="plain-text prompts: 'completions' sends them raw to /completions (no chat template, like hf); "
        "'chat' sends them as one user message, for servers without /completions",
    )
    retry: RetryConfig = RetryConfig()
    rate_limit: RateLimitConfig = RateLimitConfig()
    prices: dict[str, Price] = Field(
        default_factory=dict, description="model-name prefix -> dollars per million tokens; none: cost unknown"
    )

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _check_base_url(value)

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            # Never echo the value: it may be the key itself, pasted in the wrong place.
            raise ValueError("must name an environment variable (letters, digits, _), not hold the key itself")
        return value

    def resolved_base_url(self) -> str:
        """``base_url``, else ``$OPENAI_BASE_URL``; one ConfigError saying what to set."""
        if self.base_url:
            return self.base_url
        from_env = os.environ.get(BASE_URL_VAR, "").strip()
        if not from_env:
            raise ConfigError(
                f"the openai backend needs base_url (e.g. http://127.0.0.1:8000/v1, where `vllm serve` listens) "
                f"or {BASE_URL_VAR} in the environment"
            )
        try:
            return _check_base_url(from_env)
        except ValueError as error:
            raise ConfigError(f"{BASE_URL_VAR} {error}") from None

    def api_key(self) -> str | None:
        """The key from ``api_key_env``; None where the server needs none (a loopback one, or api_key_env: null)."""
        if self.api_key_env is None:
            return None
        value = os.environ.get(self.api_key_env, "").strip()
        if value:
            return value
        url = self.resolved_base_url()
        if is_loopback(url):
            return None
        raise ConfigError(
            f"no API key for {public_url(url)}: set {self.api_key_env} in the environment of every node "
            "(or api_key_env: null if that server needs no key)"
        )

    def preflight(self) -> None:
        self.api_key()


class _Malformed(Exception):
    """A 200 whose body is not a completion (the SDK hands back the text of a non-JSON body)."""


def retry_after(headers: Any) -> float | None:
    """Seconds a ``Retry-After`` (or ``retry-after-ms``) header asks for, or None."""
    if headers is None:
        return None
    milliseconds = headers.get("retry-after-ms")
    try:
        if milliseconds is not None:
            return max(0.0, float(milliseconds) / 1000.0)
    except ValueError:
        pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def split_total(total: int, weights: list[int]) -> list[int]:
    """``total`` in whole parts proportional to ``weights`` (equal parts when all are 0); sums to ``total``."""
    if not weights:
        return []
    if not any(weights):
        weights = [1] * len(weights)
    scale = sum(weights)
    parts = [total * w // scale for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (total * weights[i]) % scale, reverse=True)
    for i in remainders[: total - sum(parts)]:
        parts[i] += 1
    return parts


class OpenAIBackend(RemoteBackend):
    """Requests sent by a thread pool; ``n`` samples in one request where the server supports it.

    Chat prompts go to ``chat.completions``; plain text to ``completions`` (or as one user
    message, ``text_prompts: chat``). A request for all ``n`` samples is seeded ``seed +
    first_sample``; with one request per sample, sample ``i`` is seeded ``seed + i``. Of the
    completions one request brings, the first carries its prompt tokens and attempts, and its
    completion tokens are split across them by text length (the API gives only their sum), so
    usage sums stay exact.
    """

    name = "openai"

    def __init__(self, config: OpenAIConfig, *, run_id: str | None = None) -> None:
        base_url = config.resolved_base_url()
        api_key = config.api_key()
        try:
            import openai
        except ImportError:
            raise ConfigError("the openai backend needs the openai SDK: pip install 'arcray[openai]'") from None
        super().__init__(config, secret=api_key, run_id=run_id)
        self.config: OpenAIConfig = config
        self.base_url = base_url
        self._openai = openai
        # max_retries=0: the SDK sends each request once; call_with_retries owns retrying.
        # timeout_s is a deadline for the whole request, not per read: arcray.llm.deadline
        transport = deadline_transport()
        self._client = openai.OpenAI(
            api_key=api_key or NO_KEY, base_url=self.base_url, timeout=config.timeout_s, max_retries=0,
            http_client=openai.DefaultHttpxClient(transport=transport) if transport is not None else None,
        )
        self._server_ignores_n = False

    @property
    def identity(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "model": self.config.model,
            "base_url": public_url(self.base_url),
            "text_prompts": self.config.text_prompts,
        }

    @property
    def price(self) -> Price | None:
        return price_for(self.config.model, self.config.prices)

    def _generate(
        self, prompts: list[NormalizedPrompt], params: SamplingParams, first_sample: int
    ) -> list[list[Completion]]:
        rows: list[list[Completion]] = [[] for _ in prompts]
        if params.n > 1 and self.config.n_in_one_request and not self._server_ignores_n:
            together = [self._submit(self._request, prompt, params, first_sample, params.n) for prompt in prompts]
            rows = [future.result() for future in together]
        # Whatever one request did not bring (all of it when sending one sample per request).
        missing = {
            (p, j): self._submit(self._request, prompts[p], params, first_sample + j, 1)
            for p, row in enumerate(rows)
            for j in range(len(row), params.n)
        }
        for (p, _), future in missing.items():  # in sample order: the dict keeps submission order
            rows[p].extend(future.result())
        return rows

    # -- one request -------------------------------------------------------------------
    def _request(
        self, prompt: NormalizedPrompt, params: SamplingParams, sample_index: int, count: int
    ) -> list[Completion]:
        """``count`` samples of ``prompt`` from one request: fewer when the server ignored ``n``."""
        chat = not isinstance(prompt, str) or self.config.text_prompts == "chat"
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
        arguments = self._arguments(params, sample_index, count)
        estimate = 1 + sum(len(m["content"]) for m in messages) // _CHARS_PER_TOKEN

        def attempt() -> Any:
            with deadline(self.config.timeout_s):
                if chat:
                    response = self._client.chat.completions.create(messages=messages, **arguments)
                else:
                    response = self._client.completions.create(prompt=prompt, **arguments)
            if not hasattr(response, "choices"):
                raise _Malformed(f"unreadable response: {str(response)[:200]}")
            return response

        outcome = self._with_retries(attempt, estimate)
        if outcome.failure is not None:
            first = failed_completion(outcome, self._redact)
            return [first] + [Completion.failure(first.error_kind, first.error or "", attempts=0)] * (count - 1)
        completions = self._parse(outcome.value, outcome.attempts, chat, params, count)
        if completions[0].prompt_tokens:  # a server that reports no usage leaves the estimate booked
            self._settle(completions[0].prompt_tokens, estimate)
        if len(completions) < count and not self._server_ignores_n:
            self._server_ignores_n = True
            log.warning(
                "%s at %s answered %d of n=%d choices; asking one request per sample from now on",
                self.config.model, public_url(self.base_url), len(completions), count,
            )
        return completions

    def _arguments(self, params: SamplingParams, sample_index: int, count: int) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "model": self.config.model,
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }
        if count > 1:
            arguments["n"] = count  # sent only when > 1: some servers refuse fields they lack
        if params.stop:
            arguments["stop"] = list(params.stop)
        if params.seed is not None:
            arguments["seed"] = params.seed + sample_index
        if params.ignore_eos:
            arguments["extra_body"] = {"ignore_eos": True}  # vLLM's and SGLang's extension
        return arguments

    def _classify(self, error: Exception) -> AttemptFailure:
        from pydantic import ValidationError

        openai, retry = self._openai, self.config.retry
        if isinstance(error, openai.APIStatusError):
            code = error.status_code
            message = f"HTTP {code}: {_error_detail(error)}"
            if code == 404:
                message += f" (is {public_url(self.base_url)} the API root, usually ending in /v1?)"
            if code in retry.retry_statuses:
                delay = retry_after(error.response.headers)
                return AttemptFailure(f"http_{code}", message, retryable=True, server_delay_s=delay)
            return AttemptFailure("client_error", message, retryable=False)
        if isinstance(error, openai.APITimeoutError):
            return AttemptFailure("timeout", f"no answer within {self.config.timeout_s:g} s", retryable=True)
        if isinstance(error, openai.APIConnectionError):
            cause = error.__cause__ or error
            detail = f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
            return AttemptFailure("connection", f"cannot reach {public_url(self.base_url)} ({detail})", retryable=True)
        if isinstance(error, _Malformed):
            return AttemptFailure("malformed_response", str(error), retryable=True)
        if isinstance(error, (json.JSONDecodeError, openai.APIResponseValidationError, ValidationError)):
            return AttemptFailure("malformed_response", f"unreadable response: {str(error)[:200]}", retryable=True)
        raise error

    def _parse(self, response: Any, attempts: int, chat: bool, params: SamplingParams, count: int) -> list[Completion]:
        usage = response.usage
        prompt_tokens = (usage.prompt_tokens or 0) if usage else 0
        completion_total = (usage.completion_tokens or 0) if usage else 0
        choices = sorted(response.choices or [], key=lambda choice: choice.index or 0)[:count]
        if not choices:
            failure = Completion.failure(
                "no_candidates", "the response had no choices", prompt_tokens=prompt_tokens, attempts=attempts
            )
            return [failure] + [Completion.failure("no_candidates", failure.error or "", attempts=0)] * (count - 1)
        texts = [choice.message.content if chat else choice.text for choice in choices]
        shares = split_total(completion_total, [len(text or "") for text in texts])
        completions = []
        for index, (choice, text, tokens) in enumerate(zip(choices, texts, shares)):
            counts = {
                "prompt_tokens": prompt_tokens if index == 0 else 0,
                "completion_tokens": tokens,
                "attempts": attempts if index == 0 else 0,
            }
            completions.append(_completion(text, choice.finish_reason, params.stop, counts))
        return completions

    def _close_client(self) -> None:
        self._client.close()


def _completion(
    text: str | None, finish_reason: str | None, stop: tuple[str, ...], counts: dict[str, int]
) -> Completion:
    finish = (finish_reason or "stop").lower()
    if text is None:
        if finish == "content_filter":
            return Completion.failure("blocked", "answer blocked (finish reason content_filter)", **counts)
        return Completion.failure(
            "no_text",
            f"the answer had no text (finish reason {finish}); if a reasoning parser took it all, raise max_new_tokens",
            **counts,
        )
    cuts = [text.find(s) for s in stop if s in text]
    if cuts:  # servers that leave the stop string in (transformers serve) are cut like the rest
        text, finish = text[: min(cuts)], "stop"
    return Completion(text=text, finish_reason=finish, **counts)


def _error_detail(error: Any) -> str:
    """The server's own words from an error body: OpenAI's {"error": {"message"}}, FastAPI's {"detail"}."""
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            for key in ("message", "detail", "msg"):
                if inner.get(key):
                    return str(inner[key])[:500]
        elif isinstance(inner, str):
            return inner[:500]
        if body.get("detail"):
            return str(body["detail"])[:500]
    if isinstance(body, str) and body.strip():
        return body.strip()[:500]
    return str(error.message)[:500]
