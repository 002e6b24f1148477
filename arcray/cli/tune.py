"""`arcray tune`: Ray Tune + Optuna over LoRA rank, dropout, learning rate and epochs."""

from __future__ import annotations

import argparse
from pathlib import Path

from arcray.cli._common import add_json_flag, load_yaml_config, print_json, set_if_given


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tune", help="search training configs with Ray Tune and Optuna",
        description="Each trial trains a student on Ray Train and evaluates it (ARC fitness, self-consistency); "
        "Optuna proposes the next, its study written as the search runs (RUN_DIR/optuna.db, for optuna-dashboard). "
        "Re-running the same command restores an interrupted search.",
    )
    parser.add_argument("--config", type=Path, required=True, metavar="YAML", help="e.g. experiments/configs/tune_smoke.yaml")
    parser.add_argument("--num-samples", type=int, help="trials in all")
    parser.add_argument("--max-concurrent", type=int, help="trials at once")
    parser.add_argument("--out", type=Path, help="run directory (overrides the config's)")
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from arcray.tuning.config import TuneSettings
    from arcray.tuning.run import run_tune
    from arcray.validation import build_config

    raw = load_yaml_config(args.config)
    set_if_given(raw, "num_samples", args.num_samples)
    set_if_given(raw, "max_concurrent", args.max_concurrent)
    set_if_given(raw, "out", args.out)
    settings = build_config(TuneSettings, "tune config", **raw)
    summary = run_tune(settings)
    if args.json:
        print_json({k: v for k, v in summary.items() if k != "rows"})
        return 0
    print(f"trials: {summary['trials']} ({summary['finished']} finished, {summary['errored']} errored)")
    if summary["best"]:
        metric = settings.objectives[0].metric
        params = {k: summary["best"].get(k) for k in settings.space}
        print(f"best {metric}: {summary['best'].get(metric)} with {params}")
    if summary["pareto"]:
        print(f"Pareto set: {len(summary['pareto'])} trial(s)")
    print(f"report: {summary['report']}")
    print(f"study: optuna-dashboard {summary['optuna_storage']}")
    return 0
