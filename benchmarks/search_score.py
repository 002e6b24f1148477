"""The search teacher's own score: the share of tasks whose test outputs its solvers get right.

    python benchmarks/search_score.py                      # arc1/train and arc1/eval, 2 workers
    python benchmarks/search_score.py --sets arc1/train --out runs/search
    python benchmarks/search_score.py --smoke-test         # seconds: 4 tasks, checks the script runs
    python benchmarks/search_score.py --max-expansions 1500 --sets arc1/train   # the main job's budget

Prints one JSON summary per set: tasks, found (fits every train pair), test_solved (every test
output right), its share, mean and max seconds per task, and wall time. With --out, also writes
one JSON record per task and the summaries there. Targets (issue 9): >= 10% of arc1/train
solved on its test outputs, <= 2 s per task on average on 2 cores. The budget is counted
(--max-expansions), so the found/solved figures do not depend on the machine's load; only the
seconds do (and wall_cap_hit, the tasks the --max-seconds safety cap stopped, should be 0).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from arcray.search.score import score_set, summary, write_records
from arcray.search.teacher import SearchConfig


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["arc1/train", "arc1/eval"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-depth", type=int, default=SearchConfig().max_depth)
    parser.add_argument("--max-expansions", type=int, default=SearchConfig().max_expansions,
                        help="candidate programs evaluated per task")
    parser.add_argument("--max-seconds", type=float, default=SearchConfig().max_seconds, help="wall-clock safety cap per task")
    parser.add_argument("--no-sandbox", action="store_true", help="check solvers in-process only")
    parser.add_argument("--out", type=Path, default=None, help="folder for per-task records and summaries")
    parser.add_argument("--smoke-test", action="store_true", help="4 tasks of the first set, 500 expansions each")
    args = parser.parse_args()

    config = SearchConfig(
        max_depth=args.max_depth,
        max_expansions=500 if args.smoke_test else args.max_expansions,
        max_seconds=args.max_seconds,
        sandbox=not args.no_sandbox,
    )
    sets = args.sets[:1] if args.smoke_test else args.sets
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    for name in sets:
        scores, wall_s = score_set(name, config, workers=args.workers, limit=4 if args.smoke_test else None)
        figures = {**summary(name, scores, wall_s), "config": config.model_dump()}
        print(json.dumps(figures))
        if args.out:
            stem = name.replace("/", "-")
            write_records(str(args.out / f"{stem}.jsonl"), scores)
            (args.out / f"{stem}-summary.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
