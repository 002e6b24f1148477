"""`arcray prepare`: turn collection runs and self-consistency data into a fine-tuning dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from arcray.cli._common import add_exemplars, add_facts, add_json_flag, print_json, render_fields


def register(subparsers: argparse._SubParsersAction) -> None:
    from arcray.training.prepare import PrepareConfig
    from arcray.validation import with_default

    parser = subparsers.add_parser(
        "prepare", help="build a chat-format DatasetDict from collection runs and self-consistency JSONL",
        description="Build DATA_DIR/dataset (a Hugging Face DatasetDict), DATA_DIR/{train,validation}.jsonl and DATA_DIR/stats.json.",
    )
    parser.add_argument("--from", dest="sources", action="append", type=Path, required=True, metavar="RUN_DIR|SC.jsonl",
                        help="a collection run directory or a self-consistency JSONL file (repeat to mix)")
    parser.add_argument("--out", type=Path, required=True, metavar="DATA_DIR")
    parser.add_argument("--val-fraction", type=float, help=with_default("share of tasks held out", PrepareConfig, "val_fraction"))
    parser.add_argument("--seed", type=int, help=with_default("split seed", PrepareConfig, "seed"))
    parser.add_argument("--max-tokens", type=int, metavar="K", help="drop examples longer than K tokens")
    parser.add_argument("--tokenizer", metavar="MODEL", help="model whose tokenizer counts tokens (e.g. smollm2-135m)")
    parser.add_argument("--min-fitness", type=float, help="override the run's dataset threshold")
    parser.add_argument("--prompt", choices=("full", "compact"), help="the student's prompt: full (the teacher's "
                        "instructions, the spec before the code) or compact (the pairs and one line; evaluate with "
                        "`arcray evaluate --prompt compact`); default full")
    add_facts(parser)
    add_exemplars(parser)
    from arcray.augment import AugmentConfig

    augment = parser.add_argument_group("augmentation (ARC collections; the training side only)")
    augment.add_argument("--symmetries", type=int, metavar="N", help=with_default("symmetries of the square per solved task", AugmentConfig, "symmetries"))
    augment.add_argument("--colours", type=int, metavar="N", help=with_default("colour permutations per solved task", AugmentConfig, "colour_permutations"))
    augment.add_argument("--hindsight", type=int, metavar="N", help=with_default("relabelled unfit programs per task", AugmentConfig, "hindsight"))
    augment.add_argument("--synthetic", type=int, metavar="N", help=with_default("synthetic tasks", AugmentConfig, "synthetic"))
    augment.add_argument("--random", type=int, metavar="N",
                        help=with_default("random-program tasks (every primitive)", AugmentConfig, "random"))
    augment.add_argument("--no-augment", action="store_true", help="the teachers' solved tasks only, nothing derived")
    augment.add_argument("--max-train-examples", type=int, metavar="N", help="keep at most N training examples (solved ones "
                        "first, up to --solved-share of them; the rest derived, kind by kind)")
    augment.add_argument("--solved-share", type=float, metavar="S", help=with_default("with --max-train-examples: the share "
                        "for solved examples", PrepareConfig, "solved_share"))
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from arcray.training.prepare import PrepareConfig, run_prepare
    from arcray.validation import build_config

    given = {k: getattr(args, k) for k in ("val_fraction", "seed", "max_train_examples", "solved_share")
             if getattr(args, k) is not None}
    given.update(render_fields(args))
    augment = {field: getattr(args, flag) for field, flag in (("symmetries", "symmetries"), ("colour_permutations", "colours"),
                                                              ("hindsight", "hindsight"), ("synthetic", "synthetic"),
                                                              ("random", "random"))
              if getattr(args, flag) is not None}
    if args.no_augment:
        augment = {"symmetries": 0, "colour_permutations": 0, "alternatives": False, "hindsight": 0, "synthetic": 0, "random": 0}
    config = build_config(PrepareConfig, "prepare", sources=args.sources, out=args.out, max_tokens=args.max_tokens,
                          tokenizer=args.tokenizer, min_fitness=args.min_fitness, augment=augment, **given)
    stats = run_prepare(config)
    if args.json:
        print_json({"out": str(args.out), **stats})
        return 0
    print(f"{stats['examples']} examples: {stats['train']} train, {stats['validation']} validation; by kind {stats['by_kind']}")
    if stats.get("rejected_by_augment"):
        print(f"refused by augmentation (verified in the sandbox): {stats['rejected_by_augment']}")
    if stats["tokens"]:
        t = stats["tokens"]
        print(f"tokens: mean {t['mean']}, median {t['median']}, p90 {t['p90']}, max {t['max']}; dropped over --max-tokens: {stats['dropped_over_max_tokens']}")
    print(f"dataset: {args.out / 'dataset'}")
    return 0
