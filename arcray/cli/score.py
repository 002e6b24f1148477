"""`arcray score`: run one solver file on tasks and print its fitness per task."""

from __future__ import annotations

import argparse
from pathlib import Path

from arcray.arc.fitness import evaluate_solver
from arcray.arc.sandbox import Sandbox, SandboxConfig
from arcray.arc.tasks import load_tasks
from arcray.cli._common import add_json_flag, add_task_selection, print_json
from arcray.errors import ArcrayError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "score", help="score a solver file on tasks",
        description="Run solve(grid) from SOLVER.py, sandboxed, on each task: fitness = train_correct + 10 × test_correct.",
    )
    parser.add_argument("solver", metavar="SOLVER.py", help="Python source defining solve(grid)")
    add_task_selection(parser)
    parser.add_argument("--timeout", type=float, default=SandboxConfig().timeout_s, metavar="S", help="seconds per solve() call")
    parser.add_argument("--memory-mb", type=int, default=SandboxConfig().memory_mb, metavar="MB", help="memory the solver may allocate")
    parser.add_argument("--feedback", action="store_true", help="print per-example feedback")
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    path = Path(args.solver)
    try:
        code = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise ArcrayError(f"cannot read solver {path} ({error.strerror}); pass a Python file defining solve(grid)") from None
    except UnicodeDecodeError as error:
        raise ArcrayError(f"solver {path} is not UTF-8 text (byte {error.start}); pass a Python file defining solve(grid)") from None
    tasks = load_tasks(args.tasks, ids=args.ids, limit=args.limit, max_cells=args.max_cells)
    config = _sandbox_config(args)
    with Sandbox(config) as sandbox:
        results = [evaluate_solver(code, task, sandbox) for task in tasks]
    total = sum(r.fitness for r in results)
    solved = sum(r.test_total > 0 and r.test_correct == r.test_total for r in results)
    if args.json:
        print_json({"solver": str(path), "tasks": args.tasks, "count": len(results), "total_fitness": total,
                    "test_solved": solved, "results": [r.to_dict() for r in results]})
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{path.name} on {args.tasks}")
    for column in ("task", "train_correct", "test_correct", "fitness"):
        table.add_column(column, justify="right" if column != "task" else "left")
    for r in results:
        table.add_row(r.task_id, f"{r.train_correct}/{r.train_total}", f"{r.test_correct}/{r.test_total}", f"{r.fitness:g}")
    console = Console()
    console.print(table)
    console.print(f"tasks: {len(results)}  test-solved: {solved}  total fitness: {total:g}")
    if args.feedback:
        for r in results:
            for example in r.examples:
                console.print(f"{r.task_id} {example.feedback()}", markup=False)
    return 0


def _sandbox_config(args: argparse.Namespace) -> SandboxConfig:
    from pydantic import ValidationError

    try:
        return SandboxConfig(timeout_s=args.timeout, memory_mb=args.memory_mb)
    except ValidationError as error:
        first = error.errors()[0]
        raise ArcrayError(f"--{first['loc'][0].replace('_', '-').replace('-s', '')}: {first['msg']}") from None
