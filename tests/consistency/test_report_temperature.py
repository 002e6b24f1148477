"""The reports say the temperature the run was sampled at, not the default."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from arcray.llm.types import DEFAULT_TEMPERATURE
from arcray.pipelines.sampling import ConsistencyConfig, report

ROOT = Path(__file__).resolve().parents[2]
METRICS = {"consistency": 0.5, "distinct_responses": 2.0, "distinct_answers": 1.5, "tie_rate": 0.1, "accuracy": 0.2,
           "maj_accuracy": 0.25}


def summary(temperature: float) -> dict:
    """What run_consistency writes for a config sampled at ``temperature`` (no sampling needed to read it)."""
    return {"student": {"backend": "hf", "model": "tiny"}, "dataset": "arith", "prompts": 2, "n": 3,
            "temperature": temperature, "metrics": METRICS, "by_category": {"math": METRICS}, "failures": 1,
            "failure_threshold": 0.3}


def experiment_script():
    spec = importlib.util.spec_from_file_location("experiment_script_self_consistency",
                                                  ROOT / "experiments" / "self_consistency.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_default_temperature_is_declared_once():
    assert ConsistencyConfig.model_fields["temperature"].default == DEFAULT_TEMPERATURE
    assert experiment_script().Measure.model_fields["temperature"].default == DEFAULT_TEMPERATURE


def test_the_run_report_prints_the_configured_temperature():
    text = report(summary(0.5), "gates")
    assert "2 prompts x 3 samples at T=0.5" in text and "T=0.7" not in text


def test_the_experiment_report_prints_the_temperature_its_runs_used(tmp_path):
    module = experiment_script()
    stages = {when: {"math": [summary(0.5), summary(0.5)]} for when in ("before", "after")}  # two replicates
    text = module.report(tmp_path, stages, {}, "gates before", "gates after").read_text()
    assert "n samples at T=0.5" in text and "T=0.7" not in text
    assert "| arith | 1 | after |" in text  # rows name the dataset measured and the replicate
    mixed = {"before": {"math": [summary(0.5)]}, "after": {"math": [summary(0.7)]}}
    assert module.measured_at(mixed) == "T=0.5/0.7"
