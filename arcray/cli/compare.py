"""`arcray compare RUN…`: config differences, provenance, metrics and paired differences of runs of one stage."""

from __future__ import annotations

import argparse
from pathlib import Path

from arcray.cli._common import add_json_flag, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare", help="compare runs of one stage (or two experiments, stage folder by stage folder)",
        description="Print the config fields that differ, provenance, headline metrics with their 95% intervals and "
        "paired differences (B − A on the tasks or prompts both runs measured), and plot the metrics. The first run "
        "is A, the baseline.",
    )
    parser.add_argument("runs", nargs="*", metavar="RUN", help="run folders: the --out of a stage, or an experiment's")
    parser.add_argument("--plot", type=Path, default=Path("compare.png"), metavar="PATH",
                        help="where to write the plot of the metrics (default compare.png here)")
    parser.add_argument("--no-plot", action="store_true", help="write no plot")
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from arcray.compare import compare_runs, print_text, write_plot

    comparison = compare_runs(args.runs)
    plot = None if args.no_plot else write_plot(comparison, args.plot)
    comparison["plot"] = str(plot) if plot else None
    if args.json:
        print_json(comparison)
        return 0
    print_text(comparison)
    if not args.no_plot:
        print(f"plot: {plot}" if plot else "plot: none (no run recorded a metric)")
    return 0
