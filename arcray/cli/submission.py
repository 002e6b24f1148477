"""`arcray submission score`: score an ARC Prize submission.json against known outputs."""

from __future__ import annotations

import argparse

from arcray.arc.submission import load_submission, score_submission
from arcray.arc.tasks import load_tasks
from arcray.cli._common import add_json_flag, add_task_selection, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("submission", help="work with ARC Prize submission files")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    score = actions.add_parser("score", help="score a submission.json against tasks with known test outputs")
    score.add_argument("submission", metavar="SUBMISSION.json")
    add_task_selection(score)
    add_json_flag(score)
    score.set_defaults(handler=run_score)


def run_score(args: argparse.Namespace) -> int:
    submission = load_submission(args.submission)
    tasks = load_tasks(args.tasks, ids=args.ids, limit=args.limit, max_cells=args.max_cells)
    result = score_submission(submission, tasks)
    if args.json:
        print_json({"submission": args.submission, "tasks": args.tasks, **result.to_dict()})
        return 0
    print(f"score: {result.score:.4f} ({result.correct}/{result.total} test outputs correct)")
    if result.missing_tasks:
        shown = ", ".join(result.missing_tasks[:5]) + (" …" if len(result.missing_tasks) > 5 else "")
        print(f"missing from the submission ({len(result.missing_tasks)}): {shown}")
    return 0
