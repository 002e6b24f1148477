"""Backends by name: each name maps to its config class and (lazily imported) implementation."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from arcray.errors import ConfigError, did_you_mean
from arcray.llm.config import BackendConfig, CacheConfig, GeminiConfig, HFConfig, parse_backend_config

# A factory builds the backend from its validated config; "module:attr" strings are imported
# on first use, so choosing Gemini never imports torch and `arcray.llm` never imports Ray.
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


def backend_entry(name: str) -> BackendEntry:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown backend {name!r}{did_you_mean(name, backend_names())}; choose one of {', '.join(backend_names())}"
        ) from None


def get_backend(
    spec: BackendConfig | Mapping[str, Any] | str,
    *,
    cache: CacheConfig | None = None,
    run_id: str | None = None,
    **fields: Any,
) -> Any:
    """Build a backend from a config, a mapping, or a name plus config fields.

    ``get_backend("hf", model="smollm2-135m")``; ``get_backend(config.teacher, cache=config.cache,
    run_id=run.id)``. With an enabled ``cache`` the backend is wrapped in a :class:`CachedBackend`.
    ``run_id`` names the rate limit shared by every actor of the run.
    """
    if isinstance(spec, str):
        config = parse_backend_config({"backend": spec, **fields})
    elif isinstance(spec, BackendConfig):
        config = parse_backend_config({**spec.model_dump(), **fields}) if fields else spec
    else:
        config = parse_backend_config({**spec, **fields})
    backend = backend_entry(config.backend).load_factory()(config, run_id=run_id)
    if cache is not None and cache.enabled:
        from arcray.llm.cache import CachedBackend, ResponseCache

        backend = CachedBackend(backend, ResponseCache(cache.resolved_dir()))
    return backend


register_backend("gemini", GeminiConfig, "arcray.llm.gemini:GeminiBackend")
register_backend("hf", HFConfig, "arcray.llm.hf:HFBackend")
