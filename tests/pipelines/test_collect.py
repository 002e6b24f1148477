"""Collection on a real local Ray: the real SDK against the fake Gemini server, faults injected."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from arc_teacher import KNOWN_SOLVERS, ArcTeacher
from fake_gemini import API_KEY, Reply
from arcray.pipelines.collect import CollectConfig, run_collect

UNKNOWN = ["007bbfb7", "00d62c1b"]
FAILING = "6150a2bd"
TEACHER = {"backend": "gemini", "model": "gemini-2.5-flash", "timeout_s": 5,
           "retry": {"initial_delay_s": 0.01, "max_delay_s": 0.05, "max_attempts": 3}}


def collect(out, ids, **extra):
    config = CollectConfig.build(tasks="arc1/train", ids=ids, teacher=TEACHER, out=out, concurrency=2,
                                 num_cpus_per_actor=0.5, cache={"enabled": False},
                                 evolution={"max_generations": 2, "population": 2}, **extra)
    return run_collect(config, progress=False)


def read_attempts(out):
    return [json.loads(line) for line in (out / "attempts.jsonl").read_text().splitlines()]


def test_collection_end_to_end_with_faults(local_ray, fake_gemini, tmp_path):
    ids = [*KNOWN_SOLVERS, *UNKNOWN, FAILING]
    fake_gemini.handler = ArcTeacher(ids, failing=(FAILING,))
    fake_gemini.script(Reply.error(500), Reply.error(429, retry_delay="0.05s"), Reply.error(503))
    out = tmp_path / "run"
    summary = collect(out, ids)

    records = {r["task_id"]: r for r in read_attempts(out)}
    assert sorted(records) == sorted(ids)  # nothing lost, nothing twice
    for task_id in KNOWN_SOLVERS:
        r = records[task_id]
        assert r["test_correct"] == r["test_total"] == 1 and r["train_correct"] == r["train_total"]
        assert r["fitness"] == r["train_total"] + 10 and r["solver_code"] == KNOWN_SOLVERS[task_id]
    for task_id in UNKNOWN:
        assert records[task_id]["fitness"] == 0 and records[task_id]["error"] is None
        assert len(records[task_id]["generations"]) == 2
    assert "client_error" in records[FAILING]["error"]

    assert summary["solved"] == 3 and summary["attempted"] == 6 and summary["failed"] == 1
    assert summary["usage"]["total_tokens"] > 0
    dataset = json.loads((out / "distillation_dataset.json").read_text())
    assert sorted(d["task_id"] for d in dataset) == sorted(KNOWN_SOLVERS)
    assert set(dataset[0]) == {"task_id", "analyst_spec", "solver_code", "fitness", "train_correct", "test_correct"}
    for name in ("config.json", "attempts.jsonl", "summary.json", "distillation_dataset.json"):
        assert API_KEY not in (out / name).read_text()

    # the same command again: nothing is asked, nothing is written twice
    before = fake_gemini.request_count
    collect(out, ids)
    assert fake_gemini.request_count == before
    assert len(read_attempts(out)) == len(ids)


def test_bad_config_is_refused_before_any_work(tmp_path):
    from arcray.errors import ConfigError

    with pytest.raises(ConfigError, match="did you mean 'max_generations'"):
        CollectConfig.build(tasks="arc1/train", teacher=TEACHER, out=tmp_path, evolution={"max_generation": 2})
    with pytest.raises(ConfigError, match="unknown backend 'gemni'.*did you mean 'gemini'"):
        CollectConfig.build(tasks="arc1/train", teacher={"backend": "gemni", "model": "x"}, out=tmp_path)


def test_missing_api_key_is_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    result = subprocess.run(
        [sys.executable, "-m", "arcray", "collect", "--tasks", "arc1/train", "--limit", "2", "--teacher", "gemini",
         "--model", "gemini-2.5-flash", "--out", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=120, env={k: v for k, v in os.environ.items() if "API_KEY" not in k},
    )
    assert result.returncode == 2 and "GEMINI_API_KEY" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run" / "attempts.jsonl").exists()


def test_resume_after_the_driver_is_killed(local_ray, fake_gemini, tmp_path):
    ids = [*KNOWN_SOLVERS, *UNKNOWN, "0d3d703e", "a416b8f3"]
    teacher = ArcTeacher(ids)

    def slow(request):
        time.sleep(0.4)
        return teacher(request)

    fake_gemini.handler = slow
    out = tmp_path / "run"
    env = {**os.environ, **fake_gemini.env(), "PYTHONUNBUFFERED": "1"}
    driver = subprocess.Popen(
        [sys.executable, "-m", "arcray", "collect", "--tasks", "arc1/train", "--ids", ",".join(ids), "--teacher", "gemini",
         "--model", "gemini-2.5-flash", "--max-generations", "2", "--concurrency", "1", "--no-cache", "--out", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )
    attempts = out / "attempts.jsonl"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and driver.poll() is None:
        if attempts.exists() and len(attempts.read_text().splitlines()) >= 2:
            break
        time.sleep(0.2)
    os.killpg(driver.pid, signal.SIGKILL)  # kill -9: the driver and the local Ray it started
    driver.wait()
    first = [r["task_id"] for r in read_attempts(out)]
    assert 2 <= len(first) < len(ids), first

    fake_gemini.reset()
    fake_gemini.handler = teacher
    collect(out, ids)
    final = [r["task_id"] for r in read_attempts(out)]
    assert sorted(final) == sorted(ids) and len(final) == len(set(final))  # each exactly once
    asked = {teacher.task_of(r) for r in fake_gemini.requests}
    assert asked.isdisjoint(first)  # recorded tasks were not asked again


def test_run_directory_on_storage_uri_survives_and_resumes(local_ray, fake_gemini, tmp_path, monkeypatch):
    """A run stored at a URI: a fresh machine (empty staging cache) pulls it back and resumes."""
    ids = list(KNOWN_SOLVERS)
    fake_gemini.handler = ArcTeacher(ids)
    bucket = tmp_path / "bucket"
    uri = f"file://{bucket}/runs/collect"
    monkeypatch.setenv("ARCRAY_CACHE_DIR", str(tmp_path / "machine-1"))
    collect(uri, ids[:2])
    assert len((bucket / "runs" / "collect" / "attempts.jsonl").read_text().splitlines()) == 2

    monkeypatch.setenv("ARCRAY_CACHE_DIR", str(tmp_path / "machine-2"))  # nothing staged here
    asked_before = fake_gemini.request_count
    collect(uri, ids)
    stored = [json.loads(l)["task_id"] for l in (bucket / "runs" / "collect" / "attempts.jsonl").read_text().splitlines()]
    assert sorted(stored) == sorted(ids)
    assert fake_gemini.request_count - asked_before <= 3  # only the third task was asked for
