"""Collection, student evaluation and training across the nodes of a real multi-node Ray cluster, with a worker
node killed mid-run: nothing recorded is lost, nothing is written twice, and the run (or a rerun) completes."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time

import pytest

from arc_teacher import KNOWN_SOLVERS, ArcTeacher
from fake_gemini import Reply
from arcray.arc.tasks import load_tasks
from arcray.pipelines.collect import CollectConfig, run_collect
from arcray.pipelines.evaluate import EvaluateConfig, run_evaluate

pytestmark = pytest.mark.multinode

TASKS = int(os.environ.get("ARCRAY_MULTINODE_TASKS", "8"))
# arc1/train tasks the scripted teacher knows, then small others (it answers those with a wrong program)
IDS = [*KNOWN_SOLVERS, *(t.id for t in load_tasks("arc1/train", max_cells=300) if t.id not in KNOWN_SOLVERS)]


def attempts(out) -> list[dict]:
    return [json.loads(line) for line in (out / "attempts.jsonl").read_text().splitlines()]


def nodes_of(class_fragment: str) -> set[str]:
    """The nodes on which actors of that class ran (alive or dead), from Ray's state API."""
    from ray.util.state import list_actors

    return {a.node_id for a in list_actors(detail=True, limit=10_000) if class_fragment in a.class_name}


class Slow:
    """The scripted ARC teacher, each answer held back ``delay_s``: a task takes long enough to kill a node under it."""

    def __init__(self, ids: list[str], delay_s: float) -> None:
        self.teacher, self.delay_s = ArcTeacher(ids), delay_s

    def __call__(self, request):
        reply = self.teacher(request)
        reply = Reply.text(reply) if isinstance(reply, str) else reply
        return dataclasses.replace(reply, delay_s=self.delay_s)


def gemini_collection(out, ids, *, nodes, cache: bool = False, **teacher) -> CollectConfig:
    """The scripted Gemini teacher, one actor of one CPU per worker node."""
    return CollectConfig.build(
        tasks="arc1/train", ids=ids, out=out, cache={"enabled": cache},
        teacher={"backend": "gemini", "model": "gemini-2.5-flash", "timeout_s": 10,
                 "retry": {"initial_delay_s": 0.01, "max_delay_s": 0.05, "max_attempts": 2}, **teacher},
        evolution={"max_generations": 1, "population": 1, "use_analyst": False},
        concurrency=len(nodes), num_cpus_per_actor=1.0)


def test_collection_spreads_over_the_worker_nodes(nodes, tmp_path):
    ids = IDS[: max(TASKS, 2 * len(nodes.workers))]
    out = tmp_path / "collect"
    config = CollectConfig.build(tasks="arc1/train", ids=ids, teacher={"backend": "search", "max_expansions": 5000},
                                 out=out, concurrency=len(nodes.workers), num_cpus_per_actor=1.0, memory_gib_per_actor=0.5)
    summary = run_collect(config, progress=False)
    assert summary["attempted"] == len(ids) and sorted(r["task_id"] for r in attempts(out)) == sorted(ids)
    assert summary["solved"] >= len(KNOWN_SOLVERS)
    assert nodes_of("ArcCollector") == nodes.worker_ids()  # one actor per worker node: the head holds no CPU


def test_student_evaluation_spreads_over_the_worker_nodes(nodes, tmp_path, tiny_base):
    ids = IDS[: max(TASKS // 2, 2 * len(nodes.workers))]
    out = tmp_path / "evaluate"
    config = EvaluateConfig.build(
        student={"backend": "hf", "model": str(tiny_base)}, tasks="arc1/train", ids=ids, out=str(out),
        cache={"enabled": False}, concurrency=len(nodes.workers), num_cpus_per_actor=1.0, memory_gib_per_actor=0.5,
        evolution={"max_generations": 1, "population": 2, "use_analyst": False, "select_by": "train", "max_new_tokens": 16})
    summary = run_evaluate(config, progress=False)
    records = attempts(out)
    assert sorted(r["task_id"] for r in records) == sorted(ids)
    assert all(len(r["generations"][0]) == 2 and r["usage"]["completion_tokens"] > 0 for r in records)  # k programs sampled
    assert summary["attempted"] == len(ids)
    assert nodes_of("ArcStudentEvaluator") == nodes.worker_ids()
    assert (out / "submission.json").is_file()


def test_a_worker_node_killed_mid_collection_loses_nothing_and_writes_nothing_twice(nodes, tmp_path, fake_gemini):
    ids = IDS[: max(TASKS, 4 * len(nodes.workers))]
    fake_gemini.handler = Slow(ids, delay_s=0.6)
    out = tmp_path / "collect"
    config = gemini_collection(out, ids, nodes=nodes.workers)
    killed, before = {}, []

    def kill_after_two_records():
        path = out / "attempts.jsonl"
        while not (path.is_file() and len(path.read_text().splitlines()) >= 2):
            time.sleep(0.05)
        before.extend(path.read_text().splitlines())
        killed["node"] = nodes.kill()  # a machine lost under a running actor and its task in flight, not replaced

    killer = threading.Thread(target=kill_after_two_records, daemon=True)
    killer.start()
    try:
        summary = run_collect(config, progress=False)
    except Exception as error:  # the run may fail with the node; what it recorded must hold, and a rerun completes
        failure = error
        summary = run_collect(config, progress=False)
    else:
        failure = None
    killer.join(timeout=60)
    assert killed, "the node was never killed: the collection finished before two records"

    lines = (out / "attempts.jsonl").read_text().splitlines()
    assert lines[: len(before)] == before  # what was recorded before the loss is there, as written
    assert sorted(json.loads(line)["task_id"] for line in lines) == sorted(ids)  # every task once: none lost, none twice
    assert summary["attempted"] == len(ids) and summary["solved"] == len(KNOWN_SOLVERS)
    assert all(not r["error"] for r in attempts(out)), [r["error"] for r in attempts(out) if r["error"]]
    print(f"node {killed['node'][:8]} killed after {len(before)} records; "
          f"{'the run completed itself' if failure is None else f'a rerun completed ({type(failure).__name__})'}")

    # the same command again: nothing is asked, nothing is written twice
    asked = fake_gemini.request_count
    run_collect(config, progress=False)
    assert fake_gemini.request_count == asked and (out / "attempts.jsonl").read_text().splitlines() == lines


def test_one_rate_limit_and_one_response_cache_serve_every_node(nodes, tmp_path, fake_gemini, monkeypatch):
    """The rate limit is one named Ray actor for the whole run, wherever its callers run: an actor on each node, and
    together they keep to 120 requests a minute (each alone would send that much). The response cache is the folder
    ARCRAY_CACHE_DIR names: one folder that every node sees (an NFS mount; here the one disk) serves them all."""
    ids = IDS[: max(TASKS, 4 * len(nodes.workers))]
    fake_gemini.handler = ArcTeacher(ids)
    monkeypatch.setenv("ARCRAY_CACHE_DIR", str(tmp_path / "cache"))
    limit = {"requests_per_minute": 120, "burst_s": 0.5}
    run_collect(gemini_collection(tmp_path / "first", ids, nodes=nodes.workers, cache=True, rate_limit=limit), progress=False)
    assert nodes_of("ArcCollector") >= nodes.worker_ids()
    times = sorted(r.received_at for r in fake_gemini.requests)
    # one request of burst, then 2 a second for the cluster as a whole
    print(f"{len(times)} requests from {len(nodes.workers)} nodes in {times[-1] - times[0]:.2f} s")
    assert times[-1] - times[0] >= 0.9 * (len(times) - 2) / 2.0, (len(times), times[-1] - times[0])

    asked = fake_gemini.request_count
    summary = run_collect(gemini_collection(tmp_path / "second", ids, nodes=nodes.workers, cache=True, rate_limit=limit),
                          progress=False)
    assert fake_gemini.request_count == asked  # every answer came from the shared cache, whichever node asked
    assert summary["attempted"] == len(ids) and summary["solved"] == len(KNOWN_SOLVERS)


def test_an_actor_no_node_can_hold_is_refused_in_one_line(nodes, tmp_path):
    from arcray.errors import ArcrayError

    config = CollectConfig.build(tasks="arc1/train", ids=IDS[:2], teacher={"backend": "search"}, out=tmp_path / "c",
                                 concurrency=1, num_cpus_per_actor=1.0, memory_gib_per_actor=4000)
    with pytest.raises(ArcrayError, match=r"asks Ray for 4000.0 GiB of memory and the largest node offers .*memory_gib_per_actor"):
        run_collect(config, progress=False)
    assert not (tmp_path / "c" / "attempts.jsonl").exists() or not (tmp_path / "c" / "attempts.jsonl").read_text()
