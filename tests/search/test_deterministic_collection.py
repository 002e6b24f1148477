"""The same collection and the same split on a busy machine: the search teacher's budget is a count.

``arcray collect --teacher search`` used to search for 0.3 wall-clock seconds per task, so a CPU
burner beside it changed which tasks were solved and, through them, which ones prepare held out.
Here the same collection runs twice, the second time with CPU-bound processes on every core, and
everything but the timings must match; so must the prepared split.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from arcray.pipelines.collect import CollectConfig, run_collect
from arcray.runtime.manifest import load_manifest
from arcray.training.prepare import PrepareConfig, run_prepare

LIMIT = 8  # the first 8 arc1/train tasks: 4 solved, 4 not, about 1.5 CPU seconds of search in all
# The main job's search budget (experiments/configs/main_arc.yaml), with an alternative and a near miss kept.
TEACHER = {"backend": "search", "max_depth": 3, "max_expansions": 1500, "alternatives": 1, "explored": 1}
TIMINGS = {"wall_s", "elapsed_s"}
BURNERS = os.cpu_count() or 2  # CPU-bound processes beside the collection: one per core


@contextmanager
def cpu_burner(processes: int = BURNERS):
    """Spinning Python processes, started before the block and stopped (by their own ids) after it."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]
    try:
        yield burners
    finally:
        for burner in burners:
            burner.kill()
        for burner in burners:
            burner.wait(timeout=30)


def collect(out: Path) -> list[dict]:
    config = CollectConfig.build(tasks="arc1/train", limit=LIMIT, teacher=TEACHER, out=str(out),
                                 concurrency=2, num_cpus_per_actor=1.0)
    run_collect(config, progress=False)
    records = [json.loads(line) for line in (out / "attempts.jsonl").read_text().splitlines()]
    return sorted((_without_timings(record) for record in records), key=lambda record: record["task_id"])


def prepare(collected: Path, out: Path) -> dict:
    run_prepare(PrepareConfig(sources=[collected], out=out, val_fraction=0.5))
    sides = {side: sorted(json.loads(line)["id"] for line in (out / f"{side}.jsonl").read_text().splitlines())
             for side in ("train", "validation")}
    return {"held_out_ids": sorted(load_manifest(out).exports["held_out_ids"]), **sides}


def _without_timings(value):
    if isinstance(value, dict):
        return {key: _without_timings(item) for key, item in value.items() if key not in TIMINGS}
    if isinstance(value, list):
        return [_without_timings(item) for item in value]
    return value


def test_a_cpu_burner_changes_neither_the_collection_nor_the_split(local_ray, tmp_path):
    quiet = collect(tmp_path / "quiet")
    with cpu_burner() as burners:
        busy = collect(tmp_path / "busy")
        assert all(burner.poll() is None for burner in burners), "the burners must spin through the whole run"

    assert [r["task_id"] for r in quiet] == [r["task_id"] for r in busy] and len(quiet) == LIMIT
    solved = [r["task_id"] for r in quiet if r["solver_code"]]
    assert 0 < len(solved) < LIMIT  # a meaningful mix: what a time budget would have shifted
    for calm, loaded in zip(quiet, busy):  # fitness, solver_code, programs, train/test correct, warnings, …
        assert calm == loaded, calm["task_id"]
    assert not any("budget_hit wall" in w for r in quiet for w in r["warnings"])  # the safety cap never decided

    quiet_split = prepare(tmp_path / "quiet", tmp_path / "quiet-prepared")
    busy_split = prepare(tmp_path / "busy", tmp_path / "busy-prepared")
    assert quiet_split == busy_split
    assert quiet_split["held_out_ids"] and quiet_split["train"]
