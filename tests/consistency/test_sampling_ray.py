"""A small consistency run and data generation on a tiny random model, through Ray Data."""

import json

import pytest

from arcray.cli import main
from arcray.consistency import DatasetSpec, load_problems
from arcray.errors import ArcrayError
from arcray.pipelines.sampling import ConsistencyConfig, GenerateConfig, run_consistency, run_sc_generate
from arcray.training.prepare import sc_examples
from tests.llm.tiny_models import build_tiny_llama

SC_KEYS = {"id", "prompt", "response", "category", "generate_temperature", "train_temperature", "source",
           "majority_agrees", "answer", "correct"}


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    return {"backend": "hf", "model": str(build_tiny_llama(tmp_path_factory.mktemp("tiny"))), "device": "cpu"}


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def measured(local_ray, student, tmp_path_factory):
    out = tmp_path_factory.mktemp("sc") / "math"
    config = ConsistencyConfig.build(student=student, dataset={"source": "arith", "limit": 3}, n=3, temperature=0.7,
                                     max_new_tokens=6, batch_size=2, out=out)
    return config, run_consistency(config, progress=False)


def test_consistency_run_writes_records_summary_and_failures(measured):
    config, summary = measured
    records = read(config.out / "samples.jsonl")
    assert [r["id"] for r in records] == ["arith-0-0", "arith-0-1", "arith-0-2"]
    for record in records:
        assert len(record["responses"]) == len(record["answers"]) == 3
        assert set(record["metrics"]) >= {"consistency", "distinct_responses", "tie_rate", "accuracy", "maj_accuracy"}
        assert record["sampling"]["temperature"] == 0.7 and record["problem"]["reference"]
    assert summary["prompts"] == 3 and summary["errors"] == 0 and summary["n"] == 3
    assert set(summary["metrics"]) == set(summary["by_category"]["math"])
    assert [g["gate"] for g in summary["gates"]] == ["1B.1", "1B.2"]
    failures = read(config.out / "failures.jsonl")
    assert all(f["reasons"] and f["problem"]["id"] == f["id"] for f in failures)
    assert (config.out / "report.md").read_text().startswith("# Self-consistency")
    assert json.loads((config.out / "config.json").read_text())["n"] == 3


def test_rerun_resumes_and_other_settings_are_refused(measured):
    config, summary = measured
    again = run_consistency(config, progress=False)  # nothing pending: no Ray work, nothing written twice
    assert again["metrics"] == summary["metrics"] and len(read(config.out / "samples.jsonl")) == 3
    hotter = config.model_copy(update={"temperature": 1.0})
    with pytest.raises(ArcrayError, match=r"other settings \(temperature: 0.7 -> 1.0\).*pass a new --out"):
        run_consistency(hotter, progress=False)


def test_sc_generate_from_failures_and_a_code_prompt(measured, student, tmp_path):
    config, _ = measured
    mixed = tmp_path / "mixed.jsonl"
    [code] = load_problems(DatasetSpec(source="humaneval", limit=1))
    mixed.write_text((config.out / "failures.jsonl").read_text() + json.dumps({"problem": code.to_record()}) + "\n")
    generate = GenerateConfig.build(student=student, dataset={"source": f"run:{mixed}"}, max_new_tokens=6,
                                    batch_size=4, out=tmp_path / "gen", temperatures={"code": {"train": 0.1}})
    summary = run_sc_generate(generate, progress=False)
    records = read(tmp_path / "gen" / "sc.jsonl")
    assert summary["records"] == len(records) >= 1 and summary["errors"] == 0
    for record in records:
        assert set(record) == SC_KEYS and record["generate_temperature"] == 0.0
    code_records = [r for r in records if r["category"] == "code"]
    assert all(r["train_temperature"] == 0.1 and r["correct"] is False for r in code_records)
    samples = read(tmp_path / "gen" / "samples.jsonl")
    code_sample = next(s for s in samples if s["category"] == "code")
    assert code_sample["answers"][0]["outcome"]  # judged in the actor's sandbox
    examples = sc_examples(tmp_path / "gen" / "sc.jsonl")  # what training reads
    assert examples[0]["messages"][-1]["role"] == "assistant"
    strict = generate.model_copy(update={"majority_only": True, "correct_only": True})
    assert run_sc_generate(strict, progress=False)["records"] <= len(records)


def test_cli_gates_over_runs(measured, capsys):
    config, _ = measured
    code = main(["sc-gates", str(config.out)])
    text = capsys.readouterr().out
    assert code == 1 and "math: consistency" in text
    assert "gate 1B.1: FAIL" in text and "gate 1B.2: FAIL" in text  # a random model answers no MATH problem


def test_cli_errors_are_one_line(capsys, tmp_path):
    assert main(["consistency", "--category", "creativity", "--out", str(tmp_path / "x")]) == 2
    assert "pass --dataset prompts:PATH" in capsys.readouterr().err
    assert main(["consistency", "--category", "math", "--limit", "2", "--out", str(tmp_path / "y"), "-n", "0"]) == 2
    assert "consistency config: n:" in capsys.readouterr().err
    assert main(["sc-gates", str(tmp_path)]) == 2
    assert "has no samples.jsonl" in capsys.readouterr().err
