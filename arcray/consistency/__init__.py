"""Self-consistency: categories (a registry of specs), benchmarks, answer extraction, metrics, gates.

    from arcray.consistency import DatasetSpec, Judge, load_problems, prompt_record

    problems = load_problems(DatasetSpec(source="arith", limit=20))
    with Judge() as judge:
        record = prompt_record(problems[0], ["... #### 49"] * 10, judge, sampling={})
    record.metrics  # consistency, distinct_responses, distinct_answers, tie_rate, accuracy, maj_accuracy

The domain runs without Ray; :mod:`arcray.pipelines.sampling` fans it out over model actors.
"""

from arcray.consistency.categories import (
    CATEGORIES,
    DEFAULT_TEMPERATURES,
    Category,
    CategorySpec,
    TemperatureTable,
    Temperatures,
    get_category,
    parse_category,
    register_category,
)
from arcray.consistency.datasets import DEFAULT_SOURCES, DatasetSpec, default_source, load_problems
from arcray.consistency.gates import DEFAULT_GATES, Criterion, Gate, GateResult, evaluate_gates, format_gates, scoreboard
from arcray.consistency.judge import Answer, Judge
from arcray.consistency.mathgen import MathProblem, in_heldout, math_problem, math_problems
from arcray.consistency.metrics import METRICS, Metric, Scored, aggregate, failure_reasons, get_metric, register_metric
from arcray.consistency.problems import Problem
from arcray.consistency.records import FailureRecord, Sample, TrainingRecord, samples_from_json
from arcray.consistency.score import prompt_record, score_responses
from arcray.consistency.vote import Vote, majority_vote

__all__ = [
    "CATEGORIES", "Category", "CategorySpec", "DEFAULT_TEMPERATURES", "TemperatureTable", "Temperatures",
    "get_category", "parse_category", "register_category",
    "DEFAULT_SOURCES", "DatasetSpec", "default_source", "load_problems",
    "DEFAULT_GATES", "Criterion", "Gate", "GateResult", "evaluate_gates", "format_gates", "scoreboard",
    "Answer", "Judge", "MathProblem", "in_heldout", "math_problem", "math_problems",
    "METRICS", "Metric", "Scored", "aggregate", "failure_reasons", "get_metric", "register_metric",
    "Problem", "prompt_record", "score_responses", "Vote", "majority_vote",
    "FailureRecord", "Sample", "TrainingRecord", "samples_from_json",
]
