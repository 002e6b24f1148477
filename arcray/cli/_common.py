"""Argument helpers shared by sub-commands."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from arcray.experiment import load_yaml_config  # noqa: F401  (re-exported: sub-commands read YAML as the scripts do)


def add_task_selection(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """--tasks SOURCE [--ids a,b] [--limit N] [--max-cells N]."""
    parser.add_argument("--tasks", required=required, metavar="SOURCE", help=task_source_help())
    add_ids_and_limit(parser)
    add_max_cells(parser)


def add_max_cells(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-cells", type=int, metavar="N", help="only tasks whose prompt shows at most N grid cells "
                        "(train pairs and test inputs; about its tokens)")


def add_facts(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--facts", action="store_true", help="end the prompt with a line of what the train pairs show "
                        "(the output size's rule, colours added and removed); prepare and evaluate alike")


def add_exemplars(parser: argparse.ArgumentParser, *, pool: bool = False) -> None:
    parser.add_argument("--exemplars", type=int, metavar="N", help="end the prompt with the programs of the N training-side "
                        "solved tasks nearest the task by its facts (arcray/arc/exemplars.py); prepare and evaluate alike")
    if pool:
        parser.add_argument("--exemplar-pool", type=Path, metavar="FILE", help="with --exemplars: the exemplars.json "
                            "that `arcray prepare` wrote in its --out")


def render_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The student's prompt as --prompt, --facts and --exemplars say (prepare and evaluate must render it alike)."""
    render: dict[str, Any] = {"prompt": "compact", "test_inputs": False} if args.prompt == "compact" else {}
    if args.facts:
        render["facts"] = True
    if args.exemplars:
        render["exemplars"] = args.exemplars
    if getattr(args, "exemplar_pool", None):
        from arcray.arc.exemplars import load_pool

        load_pool(args.exemplar_pool)  # one line now when it is missing or not a pool
        render["exemplar_pool"] = str(args.exemplar_pool.resolve())
    return {"render": render} if render else {}


def task_source_help() -> str:
    """Every registered ARC task source, as its spec syntax (the registry is the one list)."""
    from arcray.arc.sources import all_sources

    return "a task source: " + "; ".join(f"{s.syntax} ({s.summary})" for s in all_sources())


def add_ids_and_limit(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ids", type=split_ids, metavar="ID[,ID…]", help="only these task ids (comma-separated)")
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N tasks (by id)")


def split_ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def print_json(payload: Any) -> None:
    json.dump(payload, sys.stdout)
    sys.stdout.write("\n")


def set_if_given(target: dict, key: str, value) -> None:
    if value is not None:
        target[key] = value


def quiet_transformers() -> None:
    """Keep transformers' warnings and progress bars out of a command's output."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        return
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
