"""Score the search teacher on a task set: the share of tasks whose test outputs its solvers get right.

    python -m arcray.search.score --set arc1/train --workers 2 --out runs/search-train.jsonl
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from dataclasses import dataclass

from arcray.search.tasks import TaskLike, load_tasks
from arcray.search.teacher import SearchConfig, SearchResult, SearchTeacher


@dataclass(frozen=True)
class TaskScore:
    """One task's result with its test outcome, judged against the test outputs the search never saw."""

    result: SearchResult
    test_correct: int
    test_total: int

    @property
    def solved(self) -> bool:
        return self.test_total > 0 and self.test_correct == self.test_total


def score_task(teacher: SearchTeacher, task: TaskLike) -> TaskScore:
    """Run the teacher on one task and count the test outputs its solver reproduces."""
    result = teacher.solve(task)
    expected = [pair.output for pair in task.test]
    correct = sum(got is not None and got == want for got, want in zip(result.test_predictions, expected))
    return TaskScore(result, correct if result.found else 0, len(expected))


_worker_teacher: SearchTeacher | None = None


def _start_worker(config: SearchConfig) -> None:
    global _worker_teacher
    _worker_teacher = SearchTeacher(config)  # one per process, so one sandbox worker per process


def _score_in_worker(task: TaskLike) -> TaskScore:
    assert _worker_teacher is not None, "the pool initializer did not run"
    return score_task(_worker_teacher, task)


def score_set(name: str, config: SearchConfig, workers: int = 2, limit: int | None = None) -> tuple[list[TaskScore], float]:
    """Score every task of the set (the first `limit` ones, if given) on a pool of `workers`; returns scores and wall time."""
    tasks = load_tasks(name, limit=limit)
    started = time.perf_counter()
    if workers <= 1:
        with SearchTeacher(config) as teacher:
            scores = [score_task(teacher, task) for task in tasks]
    else:
        with multiprocessing.get_context("spawn").Pool(workers, _start_worker, (config,)) as pool:
            scores = pool.map(_score_in_worker, tasks, chunksize=1)
    return scores, time.perf_counter() - started


def write_records(path: str, scores: list[TaskScore]) -> None:
    """Write one JSON line per task: the teacher's record plus its test outcome."""
    with open(path, "w", encoding="utf-8") as handle:
        for score in scores:
            record = {**score.result.as_record(), "test_correct": score.test_correct, "test_total": score.test_total}
            handle.write(json.dumps(record) + "\n")


def summary(name: str, scores: list[TaskScore], wall_s: float) -> dict[str, object]:
    """The figures the issue asks for, as a dict."""
    seconds = [score.result.elapsed_s for score in scores]
    return {
        "set": name,
        "tasks": len(scores),
        "found": sum(score.result.found for score in scores),
        "test_solved": sum(score.solved for score in scores),
        "test_solved_share": round(sum(score.solved for score in scores) / max(len(scores), 1), 4),
        "mean_s_per_task": round(sum(seconds) / max(len(seconds), 1), 3),
        "max_s_per_task": round(max(seconds, default=0.0), 3),
        "mean_expansions": round(sum(score.result.expansions for score in scores) / max(len(scores), 1), 1),
        "wall_cap_hit": sum(score.result.budget_hit == "wall" for score in scores),
        "wall_s": round(wall_s, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="arc1/train", help="task set: arc1/train or arc1/eval")
    parser.add_argument("--max-depth", type=int, default=SearchConfig().max_depth)
    parser.add_argument("--max-expansions", type=int, default=SearchConfig().max_expansions,
                        help="candidate programs evaluated per task")
    parser.add_argument("--max-seconds", type=float, default=SearchConfig().max_seconds, help="wall-clock safety cap per task")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="score only the first N tasks")
    parser.add_argument("--no-sandbox", action="store_true", help="skip the sandbox check (in-process check only)")
    parser.add_argument("--out", default=None, help="write one JSON record per task here")
    args = parser.parse_args(argv)
    config = SearchConfig(
        max_depth=args.max_depth,
        max_expansions=args.max_expansions,
        max_seconds=args.max_seconds,
        sandbox=not args.no_sandbox,
    )
    scores, wall_s = score_set(args.set, config, workers=args.workers, limit=args.limit)
    if args.out:
        write_records(args.out, scores)
    print(json.dumps({**summary(args.set, scores, wall_s), "config": config.model_dump()}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
