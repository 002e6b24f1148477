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


class SearchCollectionTeacher:
    """The offline program-search teacher, writing the same records as the LLM teachers.

    A found program's emitted solver is scored through the sandbox like any teacher's:
    fitness = train_correct + 10 × test_correct (test outputs are read only for scoring).
    """

    def __init__(self, config, sandbox: SandboxConfig) -> None:
        from arcray.search.teacher import SearchTeacher

        self.teacher = SearchTeacher(config)
        self.sandbox = Sandbox(sandbox)

    def attempt(self, task: Task) -> dict[str, Any]:
        from arcray.arc.fitness import evaluate_solver

        found = self.teacher.solve(task)
        result = evaluate_solver(found.solver_code, task, self.sandbox) if found.found else None
        candidate = {
            "generation": 1, "origin": "search", "parent": None, "code": found.solver_code or None,
            "program": found.as_record()["program"], "fitness": result.fitness if result else 0.0,
            "train_correct": result.train_correct if result else 0, "test_correct": result.test_correct if result else 0,
            "runnable_share": round(result.runnable_share, 4) if result else 0.0,
            "failures": [e.feedback() for e in result.examples if not e.correct] if result else [],
            "error": None,
        }
        return {
            "task_id": task.id,
            "fitness": candidate["fitness"],
            "train_correct": candidate["train_correct"],
            "train_total": len(task.train),
            "test_correct": candidate["test_correct"],
            "test_total": result.test_total if result else sum(e.output is not None for e in task.test),
            "analyst_spec": found.spec,
            "solver_code": found.solver_code or None,
            "test_outputs": result.test_outputs() if result else [],
            "runnable_share": 1.0 if result and result.runnable_share == 1.0 else 0.0,
            "generations": [[candidate]] if found.found else [],
            "usage": {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "estimated_cost_usd": 0.0},
            "error": None,
            "warnings": [] if found.found else [f"search: {found.reason}"],
            "wall_s": round(found.elapsed_s, 3),
        }

    def close(self) -> None:
        self.teacher.close()
        self.sandbox.close()


def build_teacher(spec: dict[str, Any], *, evolution: EvolutionConfig, sandbox: SandboxConfig,
                  render: RenderConfig, cache: CacheConfig | None = None, run_id: str | None = None) -> Teacher:
    if spec["backend"] == SEARCH:
        return SearchCollectionTeacher(_search_config(spec), sandbox)
    return EvolutionTeacher(spec, evolution, sandbox, render, cache, run_id)
