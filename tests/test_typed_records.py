"""The typed run records: one type per file, written by every writer and read back the same way
whoever wrote the line; the one dataset filter; the raw completion kept beside the code."""

import json

import pytest

from arc_teacher import ArcTeacher
from arcray.arc.attempt import MIN_FITNESS, Attempt, CandidateRecord, attempts_from_json, latest
from arcray.arc.sandbox import Sandbox
from arcray.arc.tasks import load_tasks
from arcray.civilization import EvolutionConfig, run_evolution
from arcray.consistency import DatasetSpec, Judge, load_problems, prompt_record
from arcray.consistency.records import Sample, samples_from_json
from arcray.files import atomic_write
from arcray.llm import get_backend
from arcray.validation import with_default


def test_an_evolution_attempt_keeps_every_raw_completion(fake_gemini):
    fake_gemini.handler = ArcTeacher(["67a3c6ac"])
    [task] = load_tasks("arc1/train", ids=["67a3c6ac"])
    with get_backend("gemini", model="gemini-2.5-flash", timeout_s=5) as backend, Sandbox() as sandbox:
        attempt = run_evolution(task, backend, sandbox, EvolutionConfig(max_generations=1, population=2, use_analyst=False)).to_record()
    [again] = attempts_from_json([json.loads(json.dumps(attempt.to_json()))])
    assert again == attempt  # what is written is what is read
    for candidate in again.candidates:
        assert candidate.completion and "```python" in candidate.completion  # the text as the model sent it
        assert candidate.code and candidate.code in candidate.completion and candidate.code != candidate.completion


def test_the_dataset_filter_is_one_rule():
    solved = Attempt(task_id="a", fitness=13, solver_code="def solve(g): return g", train_correct=3, train_total=3,
                     test_correct=1, test_total=1)
    train_only = solved.model_copy(update={"fitness": 2.0, "test_correct": 0})
    no_code = Attempt(task_id="c", fitness=5.0)
    assert [a.verified() for a in (solved, train_only, no_code)] == [True, True, False]
    assert [a.verified(10.0) for a in (solved, train_only)] == [True, False]
    assert MIN_FITNESS == 1.0 and not Attempt(task_id="d", fitness=0.5, solver_code="x").verified()
    assert solved.solved and solved.train_fit and not train_only.solved


def test_old_and_odd_lines_read_with_defaults_or_are_skipped_with_one_warning(capfd):
    written_by_an_older_arcray = {"task_id": "t1", "fitness": 0.0, "solver_code": None, "generations": [],
                                  "usage": {}, "error": "RuntimeError: boom", "failure": "internal", "wall_s": 0.1,
                                  "a_field_since_dropped": 1}
    wrong_shape = {"task_id": "t2", "generations": "not a list"}
    attempts = attempts_from_json([written_by_an_older_arcray, wrong_shape, {"task_id": "t1", "fitness": 3.0}])
    assert [a.task_id for a in attempts] == ["t1", "t1"]
    assert attempts[0].failure_kind == "internal" and attempts[0].train_total is None
    assert latest(attempts)["t1"].fitness == 3.0  # the latest line of a task wins
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "skipped 1 record(s)" in err[0] and "record 2: generations" in err[0]


def test_a_failed_task_is_internal_and_a_teacher_error_is_the_teachers():
    assert Attempt.failed("x", "OSError: gone").failure_kind == "internal"
    assert Attempt(task_id="y", error="client_error: 400").failure_kind == "teacher"
    assert Attempt(task_id="z").failure_kind is None
    assert CandidateRecord(generation=1, origin="programmer", error="client_error").written is False


def test_a_sample_round_trips_through_its_file(tmp_path):
    [problem] = load_problems(DatasetSpec(source="arith", limit=1))
    with Judge() as judge:
        sample = prompt_record(problem, ["so #### 7", "#### 7", "no idea"], judge, sampling={"n": 3})
    assert isinstance(sample, Sample) and [r.text for r in sample.responses][0] == "so #### 7"
    path = tmp_path / "samples.jsonl"
    path.write_text(sample.model_dump_json() + "\n" + json.dumps({"id": 5}) + "\n")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    [back] = samples_from_json(rows, where=str(path))  # the line without a category is skipped
    assert back == sample and back.metrics["consistency"] == pytest.approx(2 / 3, abs=1e-4)


def test_atomic_write_leaves_the_old_file_whole_when_writing_fails(tmp_path):
    target = atomic_write(tmp_path / "summary.json", '{"a": 1}')
    assert target.read_text() == '{"a": 1}'

    class Unwritable:
        pass

    with pytest.raises(TypeError):
        atomic_write(target, Unwritable())  # type: ignore[arg-type]
    assert target.read_text() == '{"a": 1}' and sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_flag_help_states_the_configs_own_default():
    from arcray.pipelines.sampling import ConsistencyConfig
    from arcray.training.config import TrainConfig

    assert with_default("rank", TrainConfig, "lora_r") == "rank (default 16)"
    assert with_default("layers", TrainConfig, "target_modules") == "layers (default q_proj,v_proj)"
    assert with_default("T", ConsistencyConfig, "temperature") == "T (default 0.7)"
    assert with_default("gens", TrainConfig, "epochs", 5) == "gens (default 5)"
