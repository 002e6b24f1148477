"""The plan's gates and temperature table as data: defaults, overrides, verdicts."""

import pytest

from arcray.consistency import DEFAULT_GATES, DEFAULT_TEMPERATURES, Gate, TemperatureTable, evaluate_gates, format_gates
from arcray.errors import ConfigError
from arcray.validation import build_config


def board(all_consistency, math_acc=None, math_ties=None, code_acc=None, code_ties=None, reasoning=None):
    b = {"all": {"consistency": all_consistency}}
    if math_acc is not None:
        b["math"] = {"accuracy": math_acc, "tie_rate": math_ties}
    if code_acc is not None:
        b["code"] = {"accuracy": code_acc, "tie_rate": code_ties}
    if reasoning is not None:
        b["reasoning"] = {"accuracy": reasoning}
    return b


def test_default_gates_are_the_plans():
    g1, g2 = DEFAULT_GATES
    assert [c.label() for c in g1.criteria] == [
        "consistency >= 0.4", "MATH accuracy >= 0.45", "REASONING accuracy >= 0.85 (when measured)"]
    assert [c.label() for c in g2.criteria] == [
        "consistency >= 0.6", "MATH accuracy >= 0.65", "CODE accuracy >= 0.7", "MATH tie_rate < 0.3", "CODE tie_rate < 0.2"]


def test_verdicts():
    before = {r.gate.name: r.status for r in evaluate_gates(board(0.1, 0.41, 0.70, 0.58, 0.28))}
    assert before == {"1B.1": "fail", "1B.2": "fail"}
    after = {r.gate.name: r.status for r in evaluate_gates(board(0.7, 0.7, 0.2, 0.75, 0.1))}
    assert after == {"1B.1": "pass", "1B.2": "pass"}
    forgot = {r.gate.name: r.status for r in evaluate_gates(board(0.7, 0.7, 0.2, 0.75, 0.1, reasoning=0.5))}
    assert forgot["1B.1"] == "fail"
    only_math = {r.gate.name: r.status for r in evaluate_gates(board(0.7, 0.7, 0.2))}
    assert only_math == {"1B.1": "pass", "1B.2": "incomplete"}  # CODE not measured
    text = format_gates(evaluate_gates(board(0.1, 0.41, 0.70)))
    assert "gate 1B.1: FAIL" in text and "measured 0.410" in text and "not measured" in text


def test_tie_rate_is_strictly_below():
    [gate] = [g for g in DEFAULT_GATES if g.name == "1B.2"]
    [result] = evaluate_gates(board(0.7, 0.7, 0.30, 0.75, 0.1), [gate])
    assert result.status == "fail"


def test_gates_from_config_refuse_unknown_metrics():
    gate = build_config(Gate, "gates", name="mine", criteria=[{"metric": "maj_accuracy", "category": "math", "threshold": 0.5}])
    assert gate.criteria[0].op == ">="
    with pytest.raises(ConfigError, match="did you mean 'consistency'"):
        build_config(Gate, "gates", name="x", criteria=[{"metric": "consistancy", "threshold": 0.5}])


def test_temperature_table_defaults_and_overrides():
    table = TemperatureTable()
    assert {c: (t.generate, t.train) for c, t in table.root.items()} == {
        "math": (0.0, 0.0), "code": (0.0, 0.0), "reasoning": (0.1, 0.0), "creativity": (0.7, 0.3),
        "knowledge": (0.0, 0.0), "instruction": (0.2, 0.0)}
    changed = TemperatureTable.model_validate({"CREATIVITY": {"generate": 0.9}})
    assert changed["creativity"].generate == 0.9 and changed["creativity"].train == 0.3
    assert changed["math"] == DEFAULT_TEMPERATURES["math"]
    with pytest.raises(ValueError, match="did you mean 'math'"):
        TemperatureTable.model_validate({"maths": {"generate": 0.1}})
    with pytest.raises(ConfigError, match="unknown category 'poetry'"):
        table["poetry"]
