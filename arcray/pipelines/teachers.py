"""Teachers for collection: something that attempts a task and returns its attempts.jsonl record.

- any generation backend (``gemini``, ``hf``, …) drives the evolution loop;
- ``search`` is the offline program-search teacher (no model, no key).

A teacher is built inside each Ray actor from plain config, so it holds its own backend,
sandbox and connections.
"""

from __future__ import annotations

from typing import Any, Protocol

from arcray.arc.render import RenderConfig
from arcray.arc.sandbox import Sandbox, SandboxConfig
from arcray.arc.tasks import Task
from arcray.civilization.config import EvolutionConfig
from arcray.civilization.evolution import run_evolution
from arcray.errors import ConfigError
from arcray.llm.config import CacheConfig, parse_backend_config

SEARCH = "search"


class Teacher(Protocol):
    def attempt(self, task: Task) -> dict[str, Any]:
        """The attempts.jsonl record for ``task``; failures are recorded in it, not raised."""

    def close(self) -> None: ...


def validate_teacher(spec: dict[str, Any]) -> dict[str, Any]:
    """Check a teacher spec up front; return it normalised (every field, defaults filled)."""
    if not isinstance(spec, dict) or "backend" not in spec:
        raise ConfigError("teacher needs a 'backend' key: gemini, hf or search")
    if spec["backend"] == SEARCH:
        return {"backend": SEARCH, **_search_config(spec).model_dump(mode="json")}
    return parse_backend_config(spec).model_dump(mode="json")


def preflight_teacher(spec: dict[str, Any]) -> None:
    """Fail before any cluster work on what the environment lacks (a missing API key, say)."""
    if spec["backend"] != SEARCH:
        parse_backend_config(spec).preflight()


def _search_config(spec: dict[str, Any]):
    try:
        from arcray.search.teacher import SearchConfig
    except ImportError:
        raise ConfigError("the search teacher is not available in this install of arcray") from None
    from pydantic import ValidationError

    fields = {k: v for k, v in spec.items() if k not in ("backend", "model")}
    try:
        return SearchConfig(**fields)
    except ValidationError as error:
        from arcray.llm.config import explain

        raise ConfigError(explain(error, "search teacher config")) from None


class EvolutionTeacher:
    """A generation backend in the Analyst → Programmer → Refiner loop."""

    def __init__(self, spec: dict[str, Any], evolution: EvolutionConfig, sandbox: SandboxConfig,
                 render: RenderConfig, cache: CacheConfig | None, run_id: str | None) -> None:
        from arcray.llm import get_backend

        self.backend = get_backend(parse_backend_config(spec), cache=cache, run_id=run_id)
        self.sandbox = Sandbox(sandbox)
        self.evolution, self.render = evolution, render

    def attempt(self, task: Task) -> dict[str, Any]:
        result = run_evolution(task, self.backend, self.sandbox, self.evolution, self.render)
        return result.to_record(getattr(self.backend, "price", None))

    def close(self) -> None:
        self.sandbox.close()
        self.backend.close()


def build_teacher(spec: dict[str, Any], *, evolution: EvolutionConfig, sandbox: SandboxConfig,
                  render: RenderConfig, cache: CacheConfig | None = None, run_id: str | None = None) -> Teacher:
    if spec["backend"] == SEARCH:
        from arcray.search.teacher import SearchCollectionTeacher

        return SearchCollectionTeacher(_search_config(spec), sandbox)
    return EvolutionTeacher(spec, evolution, sandbox, render, cache, run_id)
