"""The evolution loop's settings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from arcray.llm.types import DEFAULT_TEMPERATURE


class EvolutionConfig(BaseModel):
    """How hard the teacher (or student) tries on one task."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    max_generations: int = Field(5, ge=1, le=100, description="generations, the Programmer's first one included")
    population: int = Field(2, ge=1, le=64, description="candidates kept (and refined) per generation")
    use_analyst: bool = Field(True, description="AI Civilization mode: an Analyst writes a specification first; off = direct mode")
    target_fitness: float | None = Field(
        None, ge=0, description="stop once the best reaches this; None: the task's maximum (every train pair and known test output)"
    )
    select_by: Literal["fitness", "train"] = Field(
        "fitness",
        description="fitness: rank by train_correct + 10 × test_correct (collection on tasks with known answers); "
        "train: rank by train pairs only (evaluation, where test outputs must not steer the search)",
    )
    temperature: float = Field(DEFAULT_TEMPERATURE, ge=0, le=2, description="sampling temperature of Programmer and Refiner")
    analyst_temperature: float = Field(0.3, ge=0, le=2, description="sampling temperature of the Analyst")
    max_new_tokens: int = Field(2048, ge=16, description="token budget of one answer")
    stop: tuple[str, ...] = Field((), description="end an answer at the first of these strings (e.g. a code block "
                                  "closed and followed by a blank line: prose the solver does not need)")
    grammar: Literal["arcdsl"] | None = Field(
        None, description="keep the Programmer's and Refiner's answers to a grammar (local models only): arcdsl = "
        "a code block of 1 to grammar_steps arcdsl calls, each with its own parameters, so every answer is a "
        "well-formed solver")
    grammar_steps: int = Field(3, ge=1, le=8, description="with grammar: the most calls an answer may make (3: the "
                               "offline search's depth)")
    seed: int | None = Field(0, description="base seed for sampling (per generation seed = seed + generation)")
    feedback_grids: bool = Field(True, description="show the Refiner expected and produced grids, not only a summary")
