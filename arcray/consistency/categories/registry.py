"""The category registry: one :class:`CategorySpec` per category, looked up by name with "did you mean".

A spec is everything that differs between categories: the plan's temperatures, how an answer is
pulled out of a response, how it is judged, how a free-form prompt is put to the model, its
built-in dataset, what its problems must carry. The defaults are a plain-text category (the text
after a final "answer:", compared with the reference after normalising both), so such a category
is a name and its temperatures.

This module imports no category: the built-in ones (``math``, ``code``, ``text``) import it and
register themselves, and ``arcray.consistency.categories`` imports them in the order they list.
``CATEGORIES``, ``DEFAULT_TEMPERATURES`` and ``DEFAULT_SOURCES`` are views of the registry, read
at each use, so a category registered later is in them too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Iterator, Mapping, Sequence, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel, field_validator

from arcray.consistency import prompts
from arcray.consistency.extract import extract_text_answer, normalize_text
from arcray.errors import ConfigError, did_you_mean

_NAME = re.compile(r"[a-z][a-z0-9_]*")
RESERVED = ("all",)  # a gate's criterion uses "all" for every prompt measured

# (problem, responses, tools) → one Answer per response, None standing for a failed completion.
# ``problem`` is an arcray.consistency.problems.Problem (not imported: problems.py imports this
# module); ``tools`` is the arcray.consistency.judge.Judge asking (its sandbox, its time limit).
JudgeAnswers = Callable[[Any, list[str | None], Any], list[Any]]


class Temperatures(BaseModel):
    """One category's row: the temperature its data is generated at, and the one it is trained for."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    generate: float = Field(ge=0.0, le=2.0, description="sampling temperature when generating training data")
    train: float = Field(ge=0.0, le=2.0, description="temperature the student should reproduce the answer at")


@dataclass(frozen=True, kw_only=True)
class CategorySpec:
    """What makes a category: register one with :func:`register_category`."""

    name: str  # lower case: letters, digits, _
    temperatures: Temperatures  # the plan's row; a config's `temperatures:` overrides cells
    description: str = ""
    # response → the answer that votes (None: no answer given)
    extract: Callable[[str], str | None] = extract_text_answer
    # reference → comparable with an extracted answer
    normalize_reference: Callable[[str], str | None] = normalize_text
    # None: correct when the extracted answer equals the normalised reference
    judge: JudgeAnswers | None = None
    # a free-form prompt (a prompts: file's text) → what the model is asked
    prompt: Callable[[str], Any] = prompts.text_prompt
    # the dataset `--category NAME` alone samples; None: the user passes --dataset
    default_source: str | None = None
    # Problem fields every problem of the category must have to be judged
    requires: tuple[str, ...] = ()
    # answers run as programs: the sandbox is checked before sampling starts
    needs_sandbox: bool = False
    # worked solution → the training response; None: the solution, calculator annotations dropped
    reference_response: Callable[[str], str] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise ConfigError(f"category name {self.name!r}: use lower-case letters, digits and _, starting with a letter")
        if self.name in RESERVED:
            raise ConfigError(f"category name {self.name!r} is reserved (a gate's criterion means every prompt by it); "
                              "pick another name")
        if not isinstance(self.temperatures, Temperatures):
            raise ConfigError(f"category {self.name}: give temperatures=Temperatures(generate=T, train=T)")
        if isinstance(self.requires, str):
            raise ConfigError(f"category {self.name}: requires is a tuple of Problem fields, e.g. ('tests',)")


REGISTRY: dict[str, CategorySpec] = {}


def register_category(spec: CategorySpec) -> CategorySpec:
    """Add ``spec`` to the registry; a name is registered once."""
    if not isinstance(spec, CategorySpec):
        raise ConfigError(f"register a CategorySpec, not {type(spec).__name__}")
    if spec.name in REGISTRY:
        raise ConfigError(f"category {spec.name!r} is already registered; pick another name")
    REGISTRY[spec.name] = spec
    return spec


def get_category(name: str) -> CategorySpec:
    """The spec of category ``name`` (any case); ConfigError naming the choices otherwise."""
    value = str(name).strip().lower()
    if value not in REGISTRY:
        names = list(REGISTRY)
        raise ConfigError(f"unknown category {name!r}{did_you_mean(value, names)}; choose one of {', '.join(names)}")
    return REGISTRY[value]


def parse_category(name: str) -> str:
    """A category name in lower case; ConfigError naming the choices otherwise."""
    return get_category(name).name


# A category name in a config: validated against the registry and lower-cased.
Category = Annotated[str, AfterValidator(parse_category)]

_T = TypeVar("_T")


class _Names(Sequence[str]):
    """The registered names in registration order, read at each use."""

    def __getitem__(self, index):  # type: ignore[override]
        return tuple(REGISTRY)[index]

    def __len__(self) -> int:
        return len(REGISTRY)

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(REGISTRY))

    def __contains__(self, name: object) -> bool:
        return name in REGISTRY

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(tuple(self))


class _Column(Mapping[str, _T]):
    """One field of every registered category that has it (not None), by name, read at each use."""

    def __init__(self, read: Callable[[CategorySpec], _T | None]) -> None:
        self._read = read

    def _rows(self) -> dict[str, _T]:
        return {name: value for name, spec in REGISTRY.items() if (value := self._read(spec)) is not None}

    def __getitem__(self, name: str) -> _T:
        return self._rows()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows())

    def __len__(self) -> int:
        return len(self._rows())

    def __repr__(self) -> str:
        return repr(self._rows())


CATEGORIES: Sequence[str] = _Names()
DEFAULT_TEMPERATURES: Mapping[str, Temperatures] = _Column(lambda spec: spec.temperatures)
DEFAULT_SOURCES: Mapping[str, str] = _Column(lambda spec: spec.default_source)


class TemperatureTable(RootModel[dict[str, Temperatures]]):
    """Every category's temperatures: the plan's table, with any cells a config overrides.

    The table is data: ``temperatures: {creativity: {generate: 0.8}}`` changes one cell and keeps
    the plan's defaults for the rest.
    """

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
            if category not in REGISTRY:
                raise ValueError(f"unknown category {name!r}{did_you_mean(category, CATEGORIES)}; "
                                 f"choose one of {', '.join(CATEGORIES)}")
            if isinstance(row, Temperatures):
                row = row.model_dump()
            if not isinstance(row, dict):
                raise ValueError(f"{name}: give {{generate: T, train: T}}")
            merged[category] = {**merged[category], **row}  # type: ignore[dict-item]
        return merged

    def __getitem__(self, category: str) -> Temperatures:
        name = parse_category(category)
        row = self.root.get(name)
        return row if row is not None else REGISTRY[name].temperatures  # registered after the table was built
