"""What goes into a model and what comes out: prompts, sampling parameters, completions."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from arcray.errors import ConfigError

Role = Literal["system", "user", "assistant"]
ROLES: tuple[str, ...] = ("system", "user", "assistant")

# A prompt is plain text (sent as one user turn, or raw text to a local model) or a chat:
# a sequence of {"role": "system" | "user" | "assistant", "content": str}.
Message = Mapping[str, str]
Prompt = str | Sequence[Message]

# Why a completion carries no text. Callers record these; they never raise.
ErrorKind = Literal[
    "no_text",  # the model answered without a text part (e.g. only a thoughtSignature)
    "blocked",  # a safety or policy block, on the prompt or on the answer
    "no_candidates",  # an answer with no candidates and no stated reason
    "client_error",  # a 4xx that retrying cannot fix (bad request, permission, unknown model)
    "retries_exhausted",  # every attempt failed with a transient error (429, 5xx, timeout, bad JSON)
    "unreachable",  # the last attempt could not reach the endpoint (refused, DNS, TLS): not the model's failure
    "rate_limited",  # the server asked for a wait past retry.max_server_delay_s (a spent quota): not the model's failure
]


# The bounds of each sampling setting, declared once: SamplingParams and every stage config that
# carries one of its settings (a consistency run's n and temperature, say) use these types.
SampleCount = Annotated[int, Field(ge=1, le=1024)]
Temperature = Annotated[float, Field(ge=0.0, le=2.0)]
# The temperature sampled at when a config does not say: the plan's diagnosis temperature, declared once for
# consistency runs, the ARC teachers' Programmer and Refiner, tuning's consistency objective and creativity.
DEFAULT_TEMPERATURE = 0.7
TopP = Annotated[float, Field(gt=0.0, le=1.0)]
MaxNewTokens = Annotated[int, Field(ge=1)]


class SamplingParams(BaseModel):
    """How to sample: ``n`` completions per prompt, each up to ``max_new_tokens`` tokens."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    n: SampleCount = Field(1, description="completions per prompt")
    temperature: Temperature = Field(0.0, description="0 means greedy")
    top_p: TopP = Field(1.0, description="nucleus sampling mass")
    max_new_tokens: MaxNewTokens = Field(512, description="upper bound on generated tokens per completion")
    stop: tuple[str, ...] = Field((), description="cut the text before the first of these strings")
    seed: int | None = Field(None, description="same seed, same prompts, same params: same samples")
    ignore_eos: bool = Field(False, description="local models only: always generate max_new_tokens (benchmarks)")
    grammar: str | None = Field(None, description="local models only (hf, vllm): a Lark grammar every completion "
                                "keeps to, enforced token by token (llguidance)")

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_as_tuple(cls, value: Any) -> Any:
        if isinstance(value, str):
            return (value,)
        return value

    @field_validator("stop")
    @classmethod
    def _no_empty_stop(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not s for s in value):
            raise ValueError("stop strings must be non-empty")
        return value

    @model_validator(mode="after")
    def _grammar_ends_the_answer(self) -> "SamplingParams":
        if self.grammar is not None and self.ignore_eos:
            raise ValueError("ignore_eos and grammar do not go together: a grammar ends the answer where it is complete")
        return self

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0

    def cache_fields(self) -> dict[str, Any]:
        """The fields that make one sample differ from another (``n`` does not)."""
        return self.model_dump(exclude={"n"})


@dataclass(frozen=True)
class Completion:
    """One completion of one prompt. A failure has ``error_kind`` set and empty ``text``."""

    text: str = ""
    finish_reason: str = "stop"  # "stop", "length", "error", or the backend's reason in lower case
    prompt_tokens: int = 0
    completion_tokens: int = 0  # generated tokens, thinking included where the backend bills it
    error_kind: ErrorKind | None = None
    error: str | None = None
    attempts: int = 1  # requests sent for it (retries included)
    cached: bool = False  # served from the response cache: nothing was paid for it this time

    @property
    def ok(self) -> bool:
        return self.error_kind is None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @classmethod
    def failure(cls, kind: ErrorKind, error: str, **fields: Any) -> Completion:
        fields.setdefault("finish_reason", "error")
        return cls(error_kind=kind, error=error, **fields)

    def as_cached(self) -> Completion:
        return replace(self, cached=True)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Completion:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def normalize_prompt(prompt: Prompt) -> str | tuple[dict[str, str], ...]:
    """Check a prompt's shape and return it as plain text or a tuple of plain dicts."""
    if isinstance(prompt, str):
        return prompt
    if not isinstance(prompt, Sequence) or not prompt:
        raise ConfigError(
            f"a prompt must be text or a non-empty list of {{'role', 'content'}} messages, got {type(prompt).__name__}"
        )
    messages = []
    for index, message in enumerate(prompt):
        if not isinstance(message, Mapping) or set(message) != {"role", "content"}:
            raise ConfigError(
                f"prompt message {index} must have exactly the keys 'role' and 'content', got {message!r:.80}"
            )
        role, content = message["role"], message["content"]
        if role not in ROLES:
            raise ConfigError(f"prompt message {index} has role {role!r}; use one of {', '.join(ROLES)}")
        if not isinstance(content, str):
            raise ConfigError(f"prompt message {index} content must be text, got {type(content).__name__}")
        messages.append({"role": role, "content": content})
    return tuple(messages)


def prompt_key(prompt: Prompt) -> str:
    """A canonical JSON text for a prompt (cache keys, logs)."""
    return json.dumps(normalize_prompt(prompt), ensure_ascii=False, sort_keys=True)


def prompt_chars(prompt: Prompt) -> int:
    normalized = normalize_prompt(prompt)
    if isinstance(normalized, str):
        return len(normalized)
    return sum(len(m["content"]) for m in normalized)
