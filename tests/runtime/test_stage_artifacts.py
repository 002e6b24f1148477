"""Stages as typed artifacts: the manifest round trip, one-line refusals, the run-directory claim."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from arcray.errors import ArcrayError
from arcray.runtime.manifest import MANIFEST, Manifest, input_ref, load_manifest, provenance, read_artifact
from arcray.runtime.stage import LOCK, StageRun, completed, source_tree

ROOT = Path(__file__).resolve().parents[2]


def claim(out: Path, stage: str = "collect", **config) -> StageRun:
    return StageRun(out, stage, config={"tasks": "arc1/train", "teacher": {"backend": "search"}, "concurrency": 2, **config})


def test_a_manifest_round_trips_with_provenance_hashes_and_exports(tmp_path):
    with claim(tmp_path / "c", ) as stage:
        running = load_manifest(tmp_path / "c")
        assert running.status == "running" and running.finished_at is None
        (tmp_path / "c" / "attempts.jsonl").write_text('{"task_id": "a"}\n')
        (tmp_path / "c" / "data").mkdir()
        (tmp_path / "c" / "data" / "x.bin").write_bytes(b"\0" * 10)
        written = stage.finish(metrics={"solved": 3, "share": {"value": 0.5, "low": 0.2, "high": 0.8}},
                               outputs=["attempts.jsonl", "data"], exports={"tasks": "arc1/train", "min_fitness": 1.0})
    read = load_manifest(tmp_path / "c")
    assert read == written and read.status == "complete" and read.wall_s is not None
    assert Manifest.model_validate_json(read.model_dump_json()) == read
    assert set(read.outputs) == {"attempts.jsonl", "data/x.bin"} and all(len(h) == 64 for h in read.outputs.values())
    assert read.identity == {"tasks": "arc1/train", "teacher": {"backend": "search"}}  # concurrency is how, not what
    here = provenance()
    assert read.provenance == here and here.python and here.cpu_count >= 1 and "torch" in here.packages
    assert here.git_sha is None or len(here.git_sha) == 40
    ref = input_ref(tmp_path / "c", read)
    assert ref.stage == "collect" and ref.outputs_sha256 == read.digest() and len(ref.manifest_sha256) == 64


def test_a_wrong_artifact_is_refused_in_one_line(tmp_path):
    with claim(tmp_path / "c") as stage:
        stage.finish()
    with pytest.raises(ArcrayError) as refused:
        read_artifact(tmp_path / "c", need=("prepare",), role="--data")
    line = str(refused.value)
    assert "\n" not in line and "is a collect run, not a prepare run" in line and "arcray prepare" in line
    (tmp_path / "plain").mkdir()
    with pytest.raises(ArcrayError, match=f"has no {MANIFEST}"):
        read_artifact(tmp_path / "plain", need=("train",), role="--adapter")
    with pytest.raises(ArcrayError, match="does not exist"):
        read_artifact(tmp_path / "missing", need=("train",), role="--adapter")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / MANIFEST).write_text('{"stage": "collect"}')
    with pytest.raises(ArcrayError, match="not an arcray manifest"):
        read_artifact(tmp_path / "bad", need=("collect",), role="source")


def test_an_unfinished_run_is_no_artifact_yet(tmp_path):
    with pytest.raises(RuntimeError):
        with claim(tmp_path / "c"):
            raise RuntimeError("killed")
    assert load_manifest(tmp_path / "c").status == "failed"
    with pytest.raises(ArcrayError, match="has not finished"):
        read_artifact(tmp_path / "c", need=("collect",), role="source")


def test_a_run_directory_holds_one_stage_and_one_config(tmp_path):
    with claim(tmp_path / "c") as stage:
        stage.finish()
    with claim(tmp_path / "c", concurrency=8) as stage:  # more actors: the same run, resumed
        stage.finish()
    with pytest.raises(ArcrayError) as other_stage:
        with claim(tmp_path / "c", stage="evaluate"):
            pass
    assert "is a collect run" in str(other_stage.value) and "new --out" in str(other_stage.value)
    with pytest.raises(ArcrayError) as other_teacher:
        with claim(tmp_path / "c", teacher={"backend": "gemini"}):
            pass
    assert "teacher.backend: 'search' -> 'gemini'" in str(other_teacher.value)
    with pytest.raises(ArcrayError, match="tasks: 'arc1/train' -> 'arc2/train'"):
        with claim(tmp_path / "c", tasks="arc2/train"):
            pass
    assert completed(tmp_path / "c", "collect", config={"tasks": "arc1/train", "teacher": {"backend": "search"}})
    with pytest.raises(ArcrayError, match="other settings"):
        completed(tmp_path / "c", "collect", config={"tasks": "arc1/eval", "teacher": {"backend": "search"}})


def _hold(out: str, ready, release) -> None:
    with StageRun(out, "collect", config={"tasks": "arc1/train"}):
        ready.set()
        release.wait(60)


def test_a_second_live_run_is_refused_and_a_killed_one_leaves_no_stuck_lock(tmp_path):
    out = tmp_path / "c"
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold, args=(str(out), ready, release))
    holder.start()
    assert ready.wait(60)
    with pytest.raises(ArcrayError) as busy:
        with StageRun(out, "collect", config={"tasks": "arc1/train"}):
            pass
    assert "another arcray run is writing" in str(busy.value)
    os.kill(holder.pid, signal.SIGKILL)  # dies holding the lock
    holder.join(30)
    assert (out / LOCK).exists()
    with StageRun(out, "collect", config={"tasks": "arc1/train"}) as stage:  # the kernel dropped it with the process
        stage.finish()
    assert load_manifest(out).status == "complete"


def test_a_run_directory_inside_the_package_source_is_refused(tmp_path):
    inside = source_tree() / "some-run"
    with pytest.raises(ArcrayError, match="inside arcray's source folder"):
        StageRun(inside, "collect", config={})
    assert not inside.exists()
    relative = subprocess.run([sys.executable, "-m", "arcray", "collect", "--tasks", "arc1/train", "--limit", "1",
                               "--teacher", "search", "--out", "a"], cwd=source_tree(), capture_output=True, text=True,
                              timeout=300)
    assert relative.returncode == 2 and "inside arcray's source folder" in relative.stderr
    assert "Traceback" not in relative.stderr and not (source_tree() / "a").exists()


def test_a_run_directory_in_a_ray_jobs_working_dir_copy_is_refused(tmp_path, monkeypatch):
    """What `ray job submit --working-dir` runs in is deleted with Ray's session (tests/cluster has the real job)."""
    copy = tmp_path / "session_x" / "runtime_resources" / "working_dir_files" / "_ray_pkg_1"
    copy.mkdir(parents=True)
    monkeypatch.chdir(copy)
    with pytest.raises(ArcrayError, match="which Ray deletes with the session: pass --out an absolute path"):
        StageRun(Path("runs/collect"), "collect", config={})
    StageRun(tmp_path / "kept", "collect", config={})  # anywhere else is fine


def test_the_cli_refuses_a_wrong_artifact_in_one_line_before_any_work(tmp_path):
    """`arcray evaluate --data` given a collection run, and `arcray train --data` given one: one line each, exit 2."""
    with claim(tmp_path / "collect") as stage:
        stage.finish(exports={"tasks": "arc1/train", "min_fitness": 1.0})
    commands = {
        "evaluate": ["evaluate", "--model", "smollm2-135m", "--data", str(tmp_path / "collect"), "--out", str(tmp_path / "e")],
        "train": ["train", "--data", str(tmp_path / "collect"), "--model", "smollm2-135m", "--out", str(tmp_path / "t")],
    }
    for name, command in commands.items():
        done = subprocess.run([sys.executable, "-m", "arcray", *command], capture_output=True, text=True, timeout=300,
                              cwd=tmp_path)
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert done.returncode == 2, (name, done.stderr[-2000:])
        assert "Traceback" not in done.stderr and len(lines) == 1, (name, done.stderr[-2000:])
        assert "is a collect run, not a prepare run" in lines[0], lines[0]
    assert not (tmp_path / "e").exists() and not (tmp_path / "t").exists()
