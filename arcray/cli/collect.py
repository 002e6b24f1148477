"""`arcray collect`: a teacher attempts ARC tasks across Ray actors; verified solvers become data."""

from __future__ import annotations

import argparse
from pathlib import Path

from arcray.cli._common import add_json_flag, add_task_selection, load_yaml_config, print_json, set_if_given
from arcray.experiment import section


def register(subparsers: argparse._SubParsersAction) -> None:
    from arcray.civilization.config import EvolutionConfig
    from arcray.pipelines.collect import CollectConfig
    from arcray.validation import with_default

    parser = subparsers.add_parser(
        "collect", help="collect teacher solvers for ARC tasks (Ray Data)",
        description="Run the teacher (Analyst → Programmer → Refiner, or program search) on tasks across Ray actors. "
        "Writes RUN_DIR/attempts.jsonl and RUN_DIR/distillation_dataset.json; re-running resumes.",
    )
    parser.add_argument("--config", type=Path, metavar="YAML", help="a collect config; flags override it")
    add_task_selection(parser, required=False)
    parser.add_argument("--teacher", metavar="BACKEND", help="gemini, hf or search")
    parser.add_argument("--model", metavar="NAME", help="model name (gemini-2.5-flash, smollm2-135m, a folder, …)")
    parser.add_argument("--max-generations", type=int, help=with_default("generations per task", EvolutionConfig, "max_generations"))
    parser.add_argument("--population", type=int, help=with_default("candidates per generation", EvolutionConfig, "population"))
    parser.add_argument("--min-fitness", type=float, help=with_default("dataset threshold", CollectConfig, "min_fitness"))
    parser.add_argument("--analyst", action=argparse.BooleanOptionalAction, default=None,
                        help="AI Civilization mode (an Analyst first; default) or direct mode (--no-analyst)")
    parser.add_argument("--concurrency", type=int, help=with_default("actors working at once", CollectConfig, "concurrency"))
    parser.add_argument("--no-cache", action="store_true", help="always ask the teacher, never the response cache")
    parser.add_argument("--retry-failed", action="store_true", default=None,
                        help="attempt again the tasks whose teacher failed for good on an earlier run")
    parser.add_argument("--out", help="run directory: a folder or a storage URI (s3://…, gs://…)")
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def build_config(args: argparse.Namespace):
    from arcray.pipelines.collect import CollectConfig

    raw = load_yaml_config(args.config)
    set_if_given(raw, "tasks", args.tasks)
    set_if_given(raw, "ids", args.ids)
    set_if_given(raw, "limit", args.limit)
    set_if_given(raw, "max_cells", args.max_cells)
    set_if_given(raw, "min_fitness", args.min_fitness)
    set_if_given(raw, "concurrency", args.concurrency)
    set_if_given(raw, "out", args.out)
    set_if_given(raw, "retry_failed", args.retry_failed)
    teacher = dict(section(raw, "teacher"))
    set_if_given(teacher, "backend", args.teacher)
    set_if_given(teacher, "model", args.model)
    if teacher.get("backend") == "search":
        teacher.pop("model", None)
        # search is CPU-bound: one core per actor, as many actors as cores (unless told otherwise)
        import os

        raw.setdefault("num_cpus_per_actor", 1.0)
        raw.setdefault("concurrency", os.cpu_count() or 1)
    raw["teacher"] = teacher
    evolution = dict(section(raw, "evolution"))
    set_if_given(evolution, "max_generations", args.max_generations)
    set_if_given(evolution, "population", args.population)
    set_if_given(evolution, "use_analyst", args.analyst)
    raw["evolution"] = evolution
    if args.no_cache:
        raw["cache"] = {**section(raw, "cache"), "enabled": False}
    for required, flag in (("tasks", "--tasks"), ("out", "--out")):
        if not raw.get(required):
            from arcray.errors import ConfigError

            raise ConfigError(f"{flag} is required (or set '{required}' in --config)")
    if not teacher.get("backend"):
        from arcray.errors import ConfigError

        raise ConfigError("--teacher is required: gemini (needs GEMINI_API_KEY), hf, or search (offline)")
    return CollectConfig.build(**raw)


def run(args: argparse.Namespace) -> int:
    from arcray.pipelines.collect import run_collect

    config = build_config(args)
    summary = run_collect(config, progress=not args.json)
    if args.json:
        print_json({"out": str(config.out), **summary})
        return 0
    print(
        f"solved {summary['solved']}/{summary['attempted']} on test outputs ({summary['solved_share']:.1%}); "
        f"{summary['in_dataset']} solvers in the dataset; fitness mean {summary['fitness']['mean']}, "
        f"histogram {summary['fitness']['histogram']}"
    )
    usage = summary["usage"]
    print(f"tokens: {usage.get('total_tokens', 0)} (prompt {usage.get('prompt_tokens', 0)}, completion "
          f"{usage.get('completion_tokens', 0)}); estimated cost ${summary['estimated_cost_usd']}; wall {summary['wall_s']} s")
    if summary["failed"]:
        print(f"{summary['failed']} task(s) recorded with an error; see 'error' in attempts.jsonl")
    print(f"run directory: {config.out}")
    return 0
