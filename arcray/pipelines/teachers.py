"""Teachers for collection: something that attempts a task and returns its attempts.jsonl record.

- any generation backend (``gemini``, ``hf``, …) drives the evolution loop;
- ``search`` is the offline program-search teacher (no model, no key).

A teacher is built inside each Ray actor from plain config, so it holds its own backend,
sandbox and connections.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from typing import Annotated, Any, Literal, Protocol

from pydantic import BeforeValidator, Field, SerializeAsAny

from arcray.arc.attempt import Attempt, CandidateRecord
from arcray.arc.render import RenderConfig
from arcray.arc.sandbox import Sandbox, SandboxConfig
from arcray.arc.tasks import Task
from arcray.civilization.config import EvolutionConfig
from arcray.civilization.evolution import run_evolution
from arcray.errors import ConfigError
from arcray.search.teacher import SearchConfig
from arcray.llm.config import BackendConfig, CacheConfig
from arcray.llm.registry import backend_names, parse_backend_config
from arcray.llm.retry import task_retry_budget
from arcray.llm.usage import FREE, Usage
from arcray.validation import build_config

SEARCH = "search"


class Teacher(Protocol):
    def attempt(self, task: Task) -> Attempt:
        """The attempts.jsonl record for ``task``; failures are recorded in it, not raised."""

    def close(self) -> None: ...


class SearchTeacherConfig(SearchConfig):
    """``teacher: {backend: search, …}``: the offline program search, with its own settings."""

    backend: Literal["search"] = SEARCH
    model: str | None = Field(None, exclude=True, description="accepted for symmetry with the models; unused")

    def preflight(self) -> None:
        """Nothing to check: no key, no model files."""


def _resolve_teacher(value: Any) -> Any:
    if isinstance(value, (BackendConfig, SearchTeacherConfig)):
        return value
    if not isinstance(value, Mapping) or "backend" not in value:
        raise ConfigError(f"teacher needs a 'backend' key: {', '.join([*backend_names(), SEARCH])}")
    if value["backend"] == SEARCH:
        return build_config(SearchTeacherConfig, "search teacher config", **value)
    return parse_backend_config(value)


# A stage config's teacher: any generation backend (driving the evolution loop) or the search.
TeacherConfig = Annotated[SerializeAsAny[BackendConfig] | SearchTeacherConfig, BeforeValidator(_resolve_teacher)]


class EvolutionTeacher:
    """A generation backend in the Analyst → Programmer → Refiner loop."""

    def __init__(self, spec: BackendConfig, evolution: EvolutionConfig, sandbox: SandboxConfig,
                 render: RenderConfig, cache: CacheConfig | None, run_id: str | None, callers: int = 1) -> None:
        from arcray.llm import get_backend

        self.backend = get_backend(spec, cache=cache, run_id=run_id, callers=callers)
        self.spec = spec
        self.sandbox = Sandbox(sandbox)
        self.evolution, self.render = evolution, render

    def attempt(self, task: Task) -> Attempt:
        retry = getattr(self.spec, "retry", None)  # a remote teacher's retries are budgeted per task
        with task_retry_budget(retry.task_retries) if retry is not None else nullcontext():
            result = run_evolution(task, self.backend, self.sandbox, self.evolution, self.render)
        return result.to_record(getattr(self.backend, "price", None))

    def close(self) -> None:
        self.sandbox.close()
        self.backend.close()


class SearchCollectionTeacher:
    """The offline program-search teacher, writing the same records as the LLM teachers.

    A found program's emitted solver is scored through the sandbox like any teacher's:
    fitness = train_correct + 10 × test_correct (test outputs are read only for scoring).
    The search's budget is a count, so the record is the same on a busy machine; a search the
    wall-clock safety cap stopped says so in ``warnings``.
    """

    def __init__(self, config: SearchConfig, sandbox: SandboxConfig) -> None:
        from arcray.search.teacher import SearchTeacher

        self.teacher = SearchTeacher(config)
        self.sandbox = Sandbox(sandbox)

    def attempt(self, task: Task) -> Attempt:
        from arcray.arc.fitness import evaluate_solver
        from arcray.solver.emit import emit_solver

        found = self.teacher.solve(task)
        warnings = [f"search: budget_hit wall: {found.reason}; this result depends on the machine's load "
                    f"(raise max_seconds)"] if found.budget_hit == "wall" else []
        result = evaluate_solver(found.solver_code, task, self.sandbox) if found.found else None
        others = [("search-alternative", p) for p in found.alternatives] + [("search-explored", p) for p in found.explored]
        extra = []
        for origin, program in others:  # every kept program scored in the sandbox like the first
            code = emit_solver(program)
            extra.append(self._candidate(origin, code, program, evaluate_solver(code, task, self.sandbox)))
        if result is None:
            return Attempt(task_id=task.id, train_total=len(task.train), analyst_spec=found.spec,
                           test_total=sum(e.output is not None for e in task.test),
                           generations=[extra] if extra else [],
                           usage=Usage().to_dict(FREE), warnings=[f"search: {found.reason}", *warnings],
                           wall_s=round(found.elapsed_s, 3))
        candidate = self._candidate("search", found.solver_code, found.program or (), result)
        return Attempt(
            task_id=task.id, fitness=result.fitness, train_correct=result.train_correct, train_total=len(task.train),
            test_correct=result.test_correct, test_total=result.test_total, analyst_spec=found.spec,
            solver_code=found.solver_code or None, test_outputs=result.test_outputs(),
            runnable_share=1.0 if result.runnable_share == 1.0 else 0.0, generations=[[candidate, *extra]],
            usage=Usage().to_dict(FREE), warnings=warnings, wall_s=round(found.elapsed_s, 3),
        )

    @staticmethod
    def _candidate(origin: str, code: str, program, result) -> CandidateRecord:
        return CandidateRecord(
            generation=1, origin=origin, code=code or None, program=[step.call_source() for step in program],
            fitness=result.fitness, train_correct=result.train_correct, test_correct=result.test_correct,
            runnable_share=round(result.runnable_share, 4), train_runnable=result.train_runnable,
            train_sized=result.train_sized, test_outputs=result.test_outputs(),
            failures=[e.feedback() for e in result.examples if not e.correct],
        )

    def close(self) -> None:
        self.teacher.close()
        self.sandbox.close()


def build_teacher(spec: BackendConfig | SearchTeacherConfig, *, evolution: EvolutionConfig, sandbox: SandboxConfig,
                  render: RenderConfig, cache: CacheConfig | None = None, run_id: str | None = None,
                  callers: int = 1) -> Teacher:
    """``callers``: tasks the actor works on at once (threads sharing this teacher and its backend)."""
    if isinstance(spec, SearchTeacherConfig):
        return SearchCollectionTeacher(spec, sandbox)
    return EvolutionTeacher(spec, evolution, sandbox, render, cache, run_id, callers)
