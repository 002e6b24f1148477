"""Backends by name: each name maps to its config class and its implementation.

A stage config embeds a backend as ``teacher: AnyBackendConfig``; the ``backend`` key picks the
config class from this registry, so an experiment switches teacher or student by config alone:

    teacher: {backend: gemini, model: gemini-2.5-flash, rate_limit: {requests_per_minute: 1000}}
    student: {backend: hf, model: smollm2-135m, adapter: runs/arc-qlora/adapter}

Adding a backend is one file holding its config class beside its ``Backend`` subclass, plus one
``register_backend`` line at the bottom of this file (or in the caller's own code).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, SerializeAsAny, ValidationError

from arcray.errors import ConfigError, did_you_mean
from arcray.llm.config import BackendConfig, CacheConfig
from arcray.llm.gemini import GeminiBackend, GeminiConfig
from arcray.llm.hf import HFBackend, HFConfig
from arcray.llm.openai_api import OpenAIBackend, OpenAIConfig
from arcray.llm.vllm_engine import VLLMConfig
from arcray.validation import explain_validation

# A factory builds the backend from its validated config: a Backend class, any callable, or a
# "module:attr" string imported on first use (for backends outside arcray). The backend modules
# import torch, the SDK or Ray only when a backend is built, so importing this file stays cheap.
BackendFactory = Callable[..., Any]


@dataclass(frozen=True)
class BackendEntry:
    name: str
    config_class: type[BackendConfig]
    factory: BackendFactory | str

    def load_factory(self) -> BackendFactory:
        if callable(self.factory):
            return self.factory
        module_name, _, attr = self.factory.partition(":")
        return getattr(importlib.import_module(module_name), attr)


_REGISTRY: dict[str, BackendEntry] = {}


def register_backend(name: str, config_class: type[BackendConfig], factory: BackendFactory | str) -> None:
    """Make ``name`` selectable in configs; ``factory(config, run_id=...)`` returns a Backend."""
    if name in _REGISTRY and _REGISTRY[name].factory != factory:
        raise ConfigError(f"backend {name!r} is already registered; pick another name")
    _REGISTRY[name] = BackendEntry(name, config_class, factory)


def backend_names() -> list[str]:
    return sorted(_REGISTRY)


def grammar_backends() -> list[str]:
    """The registered backends that can sample to a grammar (their class says ``constrains``)."""
    return [name for name in backend_names() if getattr(_REGISTRY[name].load_factory(), "constrains", False)]


def backend_entry(name: str) -> BackendEntry:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown backend {name!r}{did_you_mean(name, backend_names())}; choose one of {', '.join(backend_names())}"
        ) from None


def parse_backend_config(value: Mapping[str, Any]) -> BackendConfig:
    """Validate a mapping with the config class its ``backend`` key names; ConfigError on any problem."""
    name = value.get("backend")
    if not name:
        raise ConfigError("backend config needs a 'backend' key, e.g. backend: gemini or backend: hf")
    config_class = backend_entry(str(name)).config_class
    try:
        return config_class.model_validate(dict(value))
    except ValidationError as error:
        raise ConfigError(explain_validation(error, config_class, f"{name} backend config")) from None


def _resolve_backend(value: Any) -> Any:
    if isinstance(value, BackendConfig):
        return value
    if not isinstance(value, Mapping):
        raise ValueError(f"a backend config is a mapping with a 'backend' key, got {type(value).__name__}")
    return parse_backend_config(value)


# Use in stage configs: validated by the class the "backend" key names, dumped with all its fields.
AnyBackendConfig = Annotated[SerializeAsAny[BackendConfig], BeforeValidator(_resolve_backend)]


STUDENT_BACKEND = "hf"  # the backend a student is sampled with unless a config names another


def student_config(model: str, adapter: Any = None, *, backend: str | None = None, **fields: Any) -> BackendConfig:
    """The config of a student: ``model`` (with a LoRA ``adapter`` on top) on ``backend``."""
    spec = {"backend": backend or STUDENT_BACKEND, "model": model, **fields}
    if adapter is not None:
        spec["adapter"] = str(adapter)
    return parse_backend_config(spec)


def get_backend(
    spec: BackendConfig | Mapping[str, Any] | str,
    *,
    cache: CacheConfig | None = None,
    run_id: str | None = None,
    callers: int = 1,
    **fields: Any,
) -> Any:
    """Build a backend from a config, a mapping, or a name plus config fields.

    ``get_backend("hf", model="smollm2-135m")``; ``get_backend(config.teacher, cache=config.cache,
    run_id=run.id)``. With an enabled ``cache`` the backend is wrapped in a :class:`CachedBackend`.
    ``run_id`` names the rate limit shared by every actor of the run. ``callers``: how many
    threads will call it at once; a backend that runs one engine call at a time (``hf``) is then
    put behind a :class:`~arcray.llm.batching.BatchingBackend`, which merges their calls.
    """
    if isinstance(spec, str):
        config = parse_backend_config({"backend": spec, **fields})
    elif isinstance(spec, BackendConfig):
        config = parse_backend_config({**spec.model_dump(), **fields}) if fields else spec
    else:
        config = parse_backend_config({**spec, **fields})
    backend = backend_entry(config.backend).load_factory()(config, run_id=run_id)
    if callers > 1 and not backend.concurrent:
        from arcray.llm.batching import BatchingBackend

        backend = BatchingBackend(backend, max_prompts=getattr(config, "batch_size", 64))
    if cache is not None and cache.enabled:
        from arcray.llm.cache import CachedBackend, ResponseCache

        backend = CachedBackend(backend, ResponseCache(cache.resolved_dir()))
    return backend


register_backend("gemini", GeminiConfig, GeminiBackend)
register_backend("hf", HFConfig, HFBackend)
register_backend("openai", OpenAIConfig, OpenAIBackend)
register_backend("vllm", VLLMConfig, "arcray.llm.vllm_engine:VLLMBackend")
