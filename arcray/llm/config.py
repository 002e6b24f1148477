"""Typed configs for generation backends and the response cache, checked before any work starts.

A stage config embeds a backend as ``teacher: AnyBackendConfig``; the ``backend`` key picks the
config class from the registry, so an experiment switches teacher or student by config alone:

    teacher: {backend: gemini, model: gemini-2.5-flash, rate_limit: {requests_per_minute: 1000}}
    student: {backend: hf, model: smollm2-135m, adapter: runs/arc-qlora/adapter}
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationError,
    model_validator,
)

from arcray.errors import ConfigError, did_you_mean
from arcray.llm.usage import DEFAULT_GEMINI_PRICES, Price

RETRYABLE_STATUSES = (408, 429, 500, 502, 503, 504)


def cache_root() -> Path:
    """Where arcray keeps converted models and cached responses (``ARCRAY_CACHE_DIR``)."""
    return Path(os.environ.get("ARCRAY_CACHE_DIR") or "~/.cache/arcray").expanduser()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetryConfig(_Strict):
    """Exponential backoff with jitter; a server's RetryInfo.retryDelay wins when it is given."""

    max_attempts: int = Field(6, ge=1, description="requests per completion, the first included")
    initial_delay_s: float = Field(1.0, ge=0.0, description="wait before the first retry")
    max_delay_s: float = Field(60.0, ge=0.0, description="cap on one computed wait")
    multiplier: float = Field(2.0, ge=1.0, description="growth of the wait per attempt")
    jitter: float = Field(0.5, ge=0.0, le=1.0, description="fraction of the wait drawn at random")
    max_server_delay_s: float = Field(300.0, ge=0.0, description="cap on a server-requested wait")
    retry_statuses: tuple[int, ...] = Field(RETRYABLE_STATUSES, description="HTTP codes worth retrying")


class RateLimitConfig(_Strict):
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


class CacheConfig(_Strict):
    """The on-disk response cache: re-running an experiment pays nothing for what it already asked."""

    enabled: bool = Field(True, description="false: always ask the backend")
    dir: Path | None = Field(None, description="default: $ARCRAY_CACHE_DIR/responses")

    def resolved_dir(self) -> Path:
        return (self.dir or cache_root() / "responses").expanduser()


class BackendConfig(_Strict):
    """Base of every backend's config: which backend, which model."""

    backend: str = Field(description="registered backend name: gemini, hf, ...")
    model: str = Field(description="model name, hub id or local folder")

    def preflight(self) -> None:
        """Fail fast, before cluster work, on what the environment lacks (keys, files)."""


class GeminiConfig(BackendConfig):
    """The Gemini teacher through the google-genai SDK (key from GEMINI_API_KEY or GOOGLE_API_KEY)."""

    backend: Literal["gemini"] = "gemini"
    model: str = "gemini-2.5-flash"
    timeout_s: float = Field(120.0, gt=0.0, description="per-request timeout")
    max_concurrency: int = Field(8, ge=1, description="requests in flight per backend instance")
    thinking_budget: int | None = Field(
        None, ge=-1, description="thinking tokens; 0 off, -1 dynamic, None: the model's default"
    )
    retry: RetryConfig = RetryConfig()
    rate_limit: RateLimitConfig = RateLimitConfig()
    prices: dict[str, Price] = Field(default_factory=lambda: dict(DEFAULT_GEMINI_PRICES))

    def preflight(self) -> None:
        from arcray.llm.gemini import api_key_from_env

        api_key_from_env()


class HFConfig(BackendConfig):
    """A local Hugging Face causal LM: a folder, a hub id, or the embedded ``smollm2-135m``."""

    backend: Literal["hf"] = "hf"
    model: str = "smollm2-135m"
    adapter: Path | None = Field(None, description="PEFT LoRA adapter folder loaded on top of the model")
    load_in_4bit: bool = Field(False, description="bitsandbytes NF4 quantization of the base")
    device: str = Field("auto", description="auto (cuda when present, else cpu), cpu, cuda, cuda:1, ...")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto", description="auto: bfloat16 on CUDA, float32 on CPU"
    )
    batch_size: int = Field(16, ge=1, description="prompts per generate call (each with its n samples)")

    @model_validator(mode="after")
    def _adapter_exists(self) -> HFConfig:
        if self.adapter is not None and not (self.adapter / "adapter_config.json").is_file():
            raise ValueError(
                f"adapter {str(self.adapter)!r} has no adapter_config.json; point it at a PEFT adapter folder"
            )
        return self

    def preflight(self) -> None:
        from arcray.llm.hf import resolve_model

        resolve_model(self.model, convert=False)


def explain(error: ValidationError, where: str) -> str:
    """One line from a pydantic error: the field, what is wrong, and for unknown keys the nearest name."""
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or where
    if first["type"] == "extra_forbidden":
        allowed = _allowed_keys(error.title, first["loc"])
        hint = did_you_mean(str(first["loc"][-1]), allowed) if allowed else ""
        return f"{where}: unknown key {location!r}{hint}"
    message = first["msg"].removeprefix("Value error, ")
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{where}: {location}: {message}{more}"


def _allowed_keys(title: str, loc: tuple[Any, ...]) -> list[str]:
    model: Any = _CONFIG_CLASSES.get(title)
    for part in loc[:-1]:
        field = model.model_fields.get(str(part)) if model else None
        model = field.annotation if field else None
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
    return list(model.model_fields) if model else []


_CONFIG_CLASSES: dict[str, type[BaseModel]] = {
    cls.__name__: cls for cls in (GeminiConfig, HFConfig, RetryConfig, RateLimitConfig, CacheConfig)
}


def _resolve_backend(value: Any) -> Any:
    if isinstance(value, BackendConfig):
        return value
    if not isinstance(value, dict):
        raise ValueError(f"a backend config is a mapping with a 'backend' key, got {type(value).__name__}")
    return parse_backend_config(value)


def parse_backend_config(value: dict[str, Any]) -> BackendConfig:
    """Validate a mapping with the config class its ``backend`` key names; ConfigError on any problem."""
    from arcray.llm.registry import backend_entry

    name = value.get("backend")
    if not name:
        raise ConfigError("backend config needs a 'backend' key, e.g. backend: gemini or backend: hf")
    config_class = backend_entry(str(name)).config_class
    _CONFIG_CLASSES.setdefault(config_class.__name__, config_class)
    try:
        return config_class.model_validate(value)
    except ValidationError as error:
        raise ConfigError(explain(error, f"{name} backend config")) from None


# Use in stage configs: validated by the class the "backend" key names, dumped with all its fields.
AnyBackendConfig = Annotated[SerializeAsAny[BackendConfig], BeforeValidator(_resolve_backend)]
