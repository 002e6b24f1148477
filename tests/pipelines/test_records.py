"""Run records hold against bad bytes: a bad line costs nothing after it, readers never write,
an internal failure is retried, and a key a solver goes looking for never reaches a record."""

import json
import os

from fake_gemini import API_KEY
from arcray.pipelines.collect import CollectConfig, run_collect
from arcray.runtime.rundir import RunDir
from arcray.training.prepare import PrepareConfig, run_prepare

IDS = ["67a3c6ac", "68b16354", "3c9b0459", "6150a2bd", "74dd1130", "0d3d703e"]


def search_collect(out, **extra):
    config = CollectConfig.build(tasks="arc1/train", ids=IDS, teacher={"backend": "search", "max_expansions": 5000},
                                 out=out, concurrency=1, num_cpus_per_actor=1.0, **extra)
    return run_collect(config, progress=False)


def lines(path):
    return path.read_bytes().splitlines(keepends=True)


def test_a_bad_line_in_the_middle_is_moved_aside_and_costs_nothing_after_it(tmp_path, capfd):
    run = RunDir(tmp_path)
    good = [json.dumps({"task_id": str(i)}).encode() + b"\n" for i in range(9)]
    (tmp_path / "attempts.jsonl").write_bytes(b"".join(good[:3]) + b"\x00garbage {not json\n" + b"".join(good[3:]) + b'{"torn": ')
    before = (tmp_path / "attempts.jsonl").read_bytes()

    assert [r["task_id"] for r in run.read_records("attempts.jsonl")] == [str(i) for i in range(9)]
    assert (tmp_path / "attempts.jsonl").read_bytes() == before  # a reader writes nothing
    assert "line 4" in capfd.readouterr().err

    records = run.resume_records("attempts.jsonl")
    assert [r["task_id"] for r in records] == [str(i) for i in range(9)]
    assert lines(tmp_path / "attempts.jsonl") == good  # the bad line and the torn one gone, the rest as written
    rejected = [json.loads(line) for line in (tmp_path / "attempts.jsonl.rejected").read_text().splitlines()]
    assert rejected == [{"line": 4, "text": "\x00garbage {not json"}]
    warning = capfd.readouterr().err.strip().splitlines()
    assert len(warning) == 1 and "attempts.jsonl.rejected" in warning[0] and "9 good record(s) kept" in warning[0]


def test_deeply_nested_and_binary_lines_are_rejected_not_fatal(tmp_path):
    path = tmp_path / "samples.jsonl"
    path.write_bytes(b"[" * 100_000 + b"\n" + b"\xff\xfe\xfd\n" + b'{"id": "a"}\n' + b"[1, 2]\n")
    assert RunDir(tmp_path).resume_records("samples.jsonl") == [{"id": "a"}]


def test_collection_resumes_past_a_garbage_line_without_redoing_anything(local_ray, tmp_path):
    out = tmp_path / "collect"
    search_collect(out)
    attempts = out / "attempts.jsonl"
    original = lines(attempts)
    assert len(original) == len(IDS)
    attempts.write_bytes(b"".join(original[:2]) + b"this line is garbage\n" + b"".join(original[2:]))

    search_collect(out)
    assert lines(attempts) == original  # nothing recomputed, nothing lost, the garbage set aside
    assert (out / "attempts.jsonl.rejected").exists()


def test_prepare_never_writes_to_its_sources(local_ray, tmp_path):
    out = tmp_path / "collect"
    search_collect(out)
    attempts = out / "attempts.jsonl"
    attempts.write_bytes(attempts.read_bytes() + b"garbage in the middle\n" + lines(attempts)[0] + b'{"torn": tr')
    sc = tmp_path / "sc.jsonl"
    sc.write_text(json.dumps({"prompt": "What is 2+3?", "response": "5", "category": "MATH"}) + "\n")
    sources = {p: p.read_bytes() for p in (attempts, sc, out / "config.json")}
    stats = run_prepare(PrepareConfig(sources=[out, sc], out=tmp_path / "data"))
    assert stats["examples"] >= 2
    assert {p: p.read_bytes() for p in sources} == sources
    assert not (out / "attempts.jsonl.rejected").exists()


def test_an_internal_failure_is_retried_and_a_teacher_failure_only_when_asked(local_ray, tmp_path):
    out = tmp_path / "collect"
    out.mkdir()
    internal = {"task_id": "67a3c6ac", "fitness": 0.0, "solver_code": None, "error": "RayActorError: the actor died",
                "failure": "internal", "generations": [], "usage": {}}
    teacher = {"task_id": "68b16354", "fitness": 0.0, "solver_code": None, "error": "client_error: HTTP 400",
               "failure": "teacher", "generations": [], "usage": {}}
    (out / "attempts.jsonl").write_text(json.dumps(internal) + "\n" + json.dumps(teacher) + "\n")

    summary = search_collect(out)
    records = RunDir(out).read_records("attempts.jsonl")
    by_task = {}
    for record in records:
        by_task.setdefault(record["task_id"], []).append(record)
    assert len(by_task["67a3c6ac"]) == 2 and by_task["67a3c6ac"][-1]["test_correct"] == 1  # retried, now solved
    assert len(by_task["68b16354"]) == 1  # a permanent teacher failure stays recorded
    assert summary["failed"] == 1

    summary = search_collect(out, retry_failed=True)
    records = RunDir(out).read_records("attempts.jsonl")
    assert [r["task_id"] for r in records].count("68b16354") == 2
    assert summary["failed"] == 0 and summary["attempted"] == len(IDS)


PEEKING_SOLVER = '''
import os
def solve(grid):
    found = []
    for pid in ("self", str(os.getppid()), "1", "2"):
        try:
            found.append(open("/proc/%s/environ" % pid, "rb").read().decode(errors="replace"))
        except OSError as error:
            pass
    found.append(repr(dict(os.environ)))
    raise RuntimeError(" ".join(found))
'''


def test_a_solver_that_hunts_for_the_key_never_gets_it_into_a_record(local_ray, fake_gemini, tmp_path, monkeypatch):
    fake_gemini.handler = lambda request: (
        "The output mirrors the input." if "Do not write code" in request.user_text
        else f"```python\n{PEEKING_SOLVER}```\n")
    out = tmp_path / "collect"
    config = CollectConfig.build(tasks="arc1/train", ids=IDS[:2], out=out, concurrency=1, num_cpus_per_actor=0.5,
                                 teacher={"backend": "gemini", "model": "gemini-2.5-flash", "timeout_s": 5},
                                 cache={"enabled": False}, evolution={"max_generations": 2, "population": 2})
    run_collect(config, progress=False)
    records = RunDir(out).read_records("attempts.jsonl")
    assert len(records) == 2
    assert any("RuntimeError" in json.dumps(r) for r in records)  # the solvers ran, and failed
    for name in os.listdir(out):
        assert API_KEY not in (out / name).read_text(errors="replace"), name
