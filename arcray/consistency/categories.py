"""Categories of prompts and the temperatures each is generated and trained at (seed 002's table).

The table is data: a config overrides any cell (``temperatures: {creativity: {generate: 0.8}}``)
and keeps the plan's defaults for the rest.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator

from arcray.errors import ConfigError, did_you_mean

Category = Literal["math", "code", "reasoning", "creativity", "knowledge", "instruction"]
CATEGORIES: tuple[str, ...] = Category.__args__  # type: ignore[attr-defined]


def parse_category(name: str) -> str:
    """A category name in lower case; ConfigError naming the choices otherwise."""
    value = str(name).strip().lower()
    if value not in CATEGORIES:
        raise ConfigError(f"unknown category {name!r}{did_you_mean(value, CATEGORIES)}; choose one of {', '.join(CATEGORIES)}")
    return value


class Temperatures(BaseModel):
    """One category's row: the temperature its data is generated at, and the one it is trained for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    generate: float = Field(ge=0.0, le=2.0, description="sampling temperature when generating training data")
    train: float = Field(ge=0.0, le=2.0, description="temperature the student should reproduce the answer at")


# Seed 002, "Category-Specific Self-Consistency Distillation".
DEFAULT_TEMPERATURES: dict[str, Temperatures] = {
    "math": Temperatures(generate=0.0, train=0.0),  # exact answers: maximise determinism
    "code": Temperatures(generate=0.0, train=0.0),  # code must be correct
    "reasoning": Temperatures(generate=0.1, train=0.0),  # slight diversity, trained deterministically
    "creativity": Temperatures(generate=0.7, train=0.3),  # generate creatively, reproduce consistently
    "knowledge": Temperatures(generate=0.0, train=0.0),  # factual precision
    "instruction": Temperatures(generate=0.2, train=0.0),  # follow instructions precisely
}


class TemperatureTable(RootModel[dict[str, Temperatures]]):
    """Every category's temperatures: the plan's table, with any cells a config overrides."""

    root: dict[str, Temperatures] = Field(default_factory=lambda: dict(DEFAULT_TEMPERATURES))

    @field_validator("root", mode="before")
    @classmethod
    def _merge_onto_defaults(cls, value: object) -> object:
        if value is None:
            return dict(DEFAULT_TEMPERATURES)
        if not isinstance(value, dict):
            raise ValueError("temperatures is a mapping of category to {generate, train}")
        merged: dict[str, object] = {k: v.model_dump() for k, v in DEFAULT_TEMPERATURES.items()}
        for name, row in value.items():
            category = str(name).lower()
            if category not in CATEGORIES:
                raise ValueError(f"unknown category {name!r}{did_you_mean(category, CATEGORIES)}")
            if isinstance(row, Temperatures):
                row = row.model_dump()
            if not isinstance(row, dict):
                raise ValueError(f"{name}: give {{generate: T, train: T}}")
            merged[category] = {**merged[category], **row}  # type: ignore[dict-item]
        return merged

    def __getitem__(self, category: str) -> Temperatures:
        return self.root[parse_category(category)]
