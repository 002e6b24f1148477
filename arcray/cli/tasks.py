"""`arcray tasks`: list the tasks of a source, or show one."""

from __future__ import annotations

import argparse

from arcray.arc.render import RenderConfig, render_task
from arcray.arc.tasks import load_tasks
from arcray.text import printable
from arcray.cli._common import add_ids_and_limit, add_json_flag, add_max_cells, print_json, task_source_help


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("tasks", help="list or show ARC tasks", description="List the tasks of a source, or show one.")
    parser.add_argument("source", help=task_source_help())
    add_ids_and_limit(parser)
    add_max_cells(parser)
    parser.add_argument("--show", metavar="ID", help="print this task's pairs and test inputs")
    parser.add_argument("--answers", action="store_true", help="with --show, also print the test outputs")
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.show:
        task = load_tasks(args.source, ids=[args.show])[0]
        if args.json:
            print_json({"id": task.id, **task.to_json()})
        else:
            print(f"task {task.id} ({len(task.train)} train, {len(task.test)} test)\n")
            print(render_task(task, RenderConfig(include_test_outputs=args.answers)))
        return 0
    tasks = load_tasks(args.source, ids=args.ids, limit=args.limit, max_cells=args.max_cells)
    rows = [
        {"id": t.id, "train": len(t.train), "test": len(t.test), "test_outputs": t.has_test_outputs,
         "largest": max(max(len(g), len(g[0])) for e in t.train + t.test for g in (e.input, e.output) if g)}
        for t in tasks
    ]
    if args.json:
        print_json({"source": args.source, "count": len(rows), "tasks": rows})
        return 0
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    # every text shown goes through printable() and escape(): no escape sequence or markup reaches the terminal
    table = Table(title=escape(printable(f"{args.source}: {len(rows)} tasks", one_line=True)))
    for column in ("id", "train", "test", "test outputs", "largest side"):
        table.add_column(column)
    for row in rows:
        table.add_row(escape(printable(row["id"], one_line=True)), str(row["train"]), str(row["test"]),
                      "yes" if row["test_outputs"] else "no", str(row["largest"]))
    Console().print(table)
    return 0
