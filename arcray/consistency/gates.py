"""The plan's decision gates as data, judged against a scoreboard of measured metrics.

A scoreboard maps ``all`` and each category to its aggregated metrics (see :func:`scoreboard`).
A gate passes when every criterion passes; it fails when any measured criterion fails; it is
incomplete when nothing failed but a required criterion was not measured (run that category).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Iterable, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from arcray.consistency import metrics
from arcray.consistency.categories import parse_category
from arcray.errors import ConfigError

_OPS = {">=": operator.ge, ">": operator.gt, "<": operator.lt, "<=": operator.le}
Status = Literal["pass", "fail", "not measured", "incomplete"]


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    metric: str = Field(description="a registered metric: consistency, accuracy, tie_rate, maj_accuracy, ...")
    category: str = Field("all", description="which prompts: a registered category, or all measured")
    op: Literal[">=", ">", "<", "<="] = ">="
    threshold: float
    optional: bool = Field(False, description="judged only when measured (a category the run did not sample)")

    @field_validator("metric")
    @classmethod
    def _known(cls, value: str) -> str:
        metrics.get_metric(value)
        return value

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        if value.strip().lower() == "all":
            return "all"
        try:
            return parse_category(value)
        except ConfigError as error:
            raise ConfigError(f"{error}, or all") from None

    def label(self, measured: dict[str, str] | None = None) -> str:
        """``MATH accuracy >= 0.45``; with ``measured`` naming the category's dataset, what was measured instead:
        ``accuracy on arith-1step (stands in for MATH) >= 0.45``."""
        when = " (when measured)" if self.optional else ""
        dataset = (measured or {}).get(self.category)
        if dataset:
            return f"{self.metric} on {dataset} (stands in for {self.category.upper()}) {self.op} {self.threshold:g}{when}"
        scope = "" if self.category == "all" else f"{self.category.upper()} "
        return f"{scope}{self.metric} {self.op} {self.threshold:g}{when}"


class Gate(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    name: str
    description: str = ""
    criteria: list[Criterion] = Field(min_length=1)


def _c(metric: str, op: str, threshold: float, category: str = "all", optional: bool = False) -> Criterion:
    return Criterion(metric=metric, op=op, threshold=threshold, category=category, optional=optional)


# Seed 002, "Success Criteria".
DEFAULT_GATES: tuple[Gate, ...] = (
    Gate(name="1B.1", description="minimal proof of concept: proceed to 1B.2 if all pass", criteria=[
        _c("consistency", ">=", 0.40),
        _c("accuracy", ">=", 0.45, "math"),
        _c("accuracy", ">=", 0.85, "reasoning", optional=True),  # no catastrophic forgetting
    ]),
    Gate(name="1B.2", description="full expansion: final success criteria", criteria=[
        _c("consistency", ">=", 0.60),
        _c("accuracy", ">=", 0.65, "math"),
        _c("accuracy", ">=", 0.70, "code"),
        _c("tie_rate", "<", 0.30, "math"),
        _c("tie_rate", "<", 0.20, "code"),
    ]),
)


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    value: float | None
    status: Status


@dataclass(frozen=True)
class GateResult:
    gate: Gate
    status: Status
    results: list[CriterionResult]

    def to_dict(self) -> dict[str, Any]:
        return {"gate": self.gate.name, "status": self.status, "criteria": [
            {"criterion": r.criterion.label(), "value": r.value, "status": r.status} for r in self.results]}


def scoreboard(per_prompt: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, float | None]]:
    """``(category, per-prompt metrics)`` pairs → aggregated metrics for ``all`` and each category."""
    rows = list(per_prompt)
    board = {"all": metrics.aggregate(values for _, values in rows)}
    for category in sorted({category for category, _ in rows}):
        board[category] = metrics.aggregate(values for c, values in rows if c == category)
    return board


def evaluate_gates(board: dict[str, dict[str, float | None]], gates: Iterable[Gate] = DEFAULT_GATES) -> list[GateResult]:
    results = []
    for gate in gates:
        judged = []
        for criterion in gate.criteria:
            value = board.get(criterion.category, {}).get(criterion.metric)
            if value is None:
                status: Status = "not measured"
            else:
                status = "pass" if _OPS[criterion.op](value, criterion.threshold) else "fail"
            judged.append(CriterionResult(criterion, value, status))
        if any(r.status == "fail" for r in judged):
            overall: Status = "fail"
        elif any(r.status == "not measured" and not r.criterion.optional for r in judged):
            overall = "incomplete"
        else:
            overall = "pass"
        results.append(GateResult(gate, overall, judged))
    return results


def format_gates(results: Iterable[GateResult], measured: dict[str, str] | None = None) -> str:
    """Human-readable lines: each gate's verdict, then each criterion with its number; ``measured``
    (category -> dataset name) says which data stood in for a category."""
    lines = []
    for result in results:
        lines.append(f"gate {result.gate.name}: {result.status.upper()}" + (f"  ({result.gate.description})" if result.gate.description else ""))
        for r in result.results:
            value = "—" if r.value is None else f"{r.value:.3f}"
            lines.append(f"  [{r.status:^12}] {r.criterion.label(measured):<42} measured {value}")
    return "\n".join(lines)
