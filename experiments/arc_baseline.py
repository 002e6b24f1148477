"""Baseline: score the bundled ARC evaluation set with simple symmetry solvers.

For each task, every baseline solver runs in the sandbox on the train pairs; the two
best by train fitness answer the test inputs. Writes into the run directory:
``config.json``, ``results.jsonl`` (one line per task, appended as it finishes, so a
re-run resumes), ``submission.json`` and ``summary.json``.

    python experiments/arc_baseline.py --tasks arc1/eval --out runs/baseline [--limit N] [--smoke-test]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from arcray.arc.fitness import evaluate_solver
from arcray.arc.sandbox import Sandbox
from arcray.arc.submission import build_submission, score_submission, write_submission
from arcray.arc.tasks import load_tasks
from arcray.experiment import Finished, run_script
from arcray.runtime.stage import StageRun

BASELINES = {
    "identity": "def solve(grid):\n    return grid\n",
    "mirror_lr": "def solve(grid):\n    return [row[::-1] for row in grid]\n",
    "mirror_ud": "def solve(grid):\n    return grid[::-1]\n",
    "transpose": "def solve(grid):\n    return [list(col) for col in zip(*grid)]\n",
    "rotate_180": "def solve(grid):\n    return [row[::-1] for row in grid[::-1]]\n",
    "rotate_90": "def solve(grid):\n    return [list(col) for col in zip(*grid[::-1])]\n",
    "rotate_270": "def solve(grid):\n    return [list(col) for col in zip(*grid)][::-1]\n",
}


def score_baselines(tasks_source: str, out: Path, limit: int | None) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps({"tasks": tasks_source, "limit": limit, "solvers": list(BASELINES)}, indent=2))
    records_path = out / "results.jsonl"
    done = {}
    if records_path.exists():
        for line in records_path.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                done[record["task_id"]] = record
    tasks = load_tasks(tasks_source, limit=limit)
    start = time.perf_counter()
    with Sandbox() as sandbox, open(records_path, "a") as records:
        for task in tasks:
            if task.id in done:
                continue
            scored = sorted(
                ((evaluate_solver(code, task, sandbox), name) for name, code in BASELINES.items()),
                key=lambda pair: -pair[0].train_correct,
            )
            record = {
                "task_id": task.id,
                "best_solver": scored[0][1],
                "train_correct": scored[0][0].train_correct,
                "test_correct": scored[0][0].test_correct,
                "fitness": scored[0][0].fitness,
                "predictions": [[r.test_outputs()[i] for r, _ in scored[:2]] for i in range(len(task.test))],
            }
            records.write(json.dumps(record) + "\n")
            records.flush()
            done[task.id] = record
    submission = build_submission(tasks, {tid: r["predictions"] for tid, r in done.items()})
    write_submission(submission, out / "submission.json")
    score = score_submission(submission, tasks)
    summary = {
        "tasks": len(tasks),
        "submission_score": round(score.score, 4),
        "test_outputs_correct": score.correct,
        "test_outputs": score.total,
        "mean_fitness": round(sum(done[t.id]["fitness"] for t in tasks) / max(len(tasks), 1), 3),
        "wall_s": round(time.perf_counter() - start, 2),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tasks", default="arc1/eval", help="task source (default: arc1/eval)")
    parser.add_argument("--limit", type=int, help="only the first N tasks")


def run(args: argparse.Namespace) -> Finished:
    limit = 20 if args.smoke_test else args.limit
    # an evaluate run of its own kind: the baseline solvers are the "student"
    with StageRun(args.out, "evaluate", config={"student": {"backend": "baseline", "solvers": list(BASELINES)},
                                                "tasks": args.tasks, "limit": limit}, operational=("limit",)) as stage:
        summary = score_baselines(args.tasks, args.out, limit)
        stage.finish(metrics={k: summary[k] for k in ("tasks", "submission_score", "mean_fitness")},
                     outputs=["results.jsonl", "submission.json", "summary.json"])
    return Finished(f"submission: {args.out / 'submission.json'}", summary=summary)


def main(argv: list[str] | None = None) -> int:
    return run_script(argv, name="arc_baseline", doc=__doc__, run=run, out="run directory",
                      out_default=Path("runs/arc-baseline"), smoke_test="20 tasks only", add_arguments=add_arguments)


if __name__ == "__main__":
    sys.exit(main())
