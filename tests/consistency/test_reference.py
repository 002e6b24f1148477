"""Worked reference solutions as training records (the warm start before self-distillation)."""

import json

import pytest

from arcray.consistency import DatasetSpec, load_problems
from arcray.consistency.extract import extract_number
from arcray.consistency.reference import reference_records
from arcray.errors import ArcrayError
from arcray.training.prepare import PrepareConfig, run_prepare


def test_math_references_drop_calculator_annotations_and_keep_the_answer():
    problems = load_problems(DatasetSpec(source="arith", split="train", limit=12))
    records = reference_records(problems)
    assert len(records) == 12
    for problem, record in zip(problems, records):
        assert record["prompt"] == problem.prompt  # the prompt measured is the prompt trained on
        assert "<<" not in record["response"] and record["response"].endswith(f"#### {problem.reference}")
        assert extract_number(record["response"]) == problem.reference


def test_code_references_are_python_blocks():
    records = reference_records(load_problems(DatasetSpec(source="humaneval", limit=2)))
    assert all(r["response"].startswith("```python\n") and "def " in r["response"] for r in records)


def test_problems_without_solutions_are_refused(tmp_path):
    path = tmp_path / "prompts.jsonl"
    path.write_text(json.dumps({"prompt": "Say hi", "category": "instruction"}) + "\n")
    with pytest.raises(ArcrayError, match="worked solution"):
        reference_records(load_problems(DatasetSpec(source=f"prompts:{path}")))


def test_prepare_reads_reference_records(tmp_path):
    source = tmp_path / "reference.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in reference_records(
        load_problems(DatasetSpec(source="arith", split="train", limit=10)))))
    stats = run_prepare(PrepareConfig(sources=[source], out=tmp_path / "data", val_fraction=0.2, seed=0))
    assert stats["examples"] == 10 and stats["by_kind"] == {"sc/math": 10}
