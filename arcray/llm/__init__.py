"""One generation interface: prompts in, ``n`` completions per prompt out, whatever the model.

    from arcray.llm import SamplingParams, get_backend

    with get_backend("hf", model="smollm2-135m") as model:
        [[answer]] = model.generate(["What is 2+3?"], SamplingParams(max_new_tokens=32))

Backends: ``gemini`` (the google-genai SDK), ``hf`` (local transformers models) and ``openai`` (a
model served with an OpenAI-compatible API: vllm serve, SGLang, ...). Importing this package imports
neither torch, an SDK, nor Ray; a backend loads what it needs when built.
"""

from arcray.llm.backend import Backend
from arcray.llm.cache import CachedBackend, ResponseCache
from arcray.llm.config import BackendConfig, CacheConfig, RateLimitConfig, RetryConfig
from arcray.llm.gemini import GeminiConfig
from arcray.llm.hf import HFConfig
from arcray.llm.openai_api import OpenAIConfig
from arcray.llm.registry import (
    STUDENT_BACKEND,
    AnyBackendConfig,
    backend_names,
    get_backend,
    parse_backend_config,
    register_backend,
    student_config,
)
from arcray.llm.types import Completion, ErrorKind, Message, Prompt, SamplingParams
from arcray.llm.usage import Price, Usage

__all__ = [
    "AnyBackendConfig",
    "Backend",
    "BackendConfig",
    "CacheConfig",
    "CachedBackend",
    "Completion",
    "ErrorKind",
    "GeminiConfig",
    "HFConfig",
    "Message",
    "OpenAIConfig",
    "Price",
    "Prompt",
    "RateLimitConfig",
    "ResponseCache",
    "RetryConfig",
    "SamplingParams",
    "Usage",
    "backend_names",
    "get_backend",
    "parse_backend_config",
    "register_backend",
    "student_config",
    "STUDENT_BACKEND",
]
