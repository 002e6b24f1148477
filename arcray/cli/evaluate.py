"""`arcray evaluate`: a student model attempts ARC tasks; fitness, runnable share, submission.json."""

from __future__ import annotations

import argparse
from pathlib import Path

from arcray.cli._common import add_exemplars, add_facts, add_json_flag, add_task_selection, print_json, render_fields


def register(subparsers: argparse._SubParsersAction) -> None:
    from arcray.civilization.config import EvolutionConfig
    from arcray.pipelines.evaluate import STUDENT_EVOLUTION, EvaluateConfig
    from arcray.llm.registry import STUDENT_BACKEND
    from arcray.validation import with_default

    parser = subparsers.add_parser(
        "evaluate", help="evaluate a student on ARC tasks (Ray Data); writes submission.json",
        description="Run the evolution loop with the student as the backend (selection by train pairs only), "
        "report fitness statistics and the share of programs that run, and write RUN_DIR/submission.json.",
    )
    parser.add_argument("--model", required=True, metavar="NAME_OR_DIR", help="smollm2-135m, a hub id, or a folder (a merged model)")
    parser.add_argument("--adapter", type=Path, metavar="DIR", help="a PEFT LoRA adapter on top of --model, or the "
                        "`arcray train` run that made it (its prepare run then comes as --data)")
    parser.add_argument("--data", type=Path, metavar="PREPARE_RUN", help="the `arcray prepare` run the student was trained "
                        "on: the prompt comes from its manifest, and without --tasks its held-out tasks")
    parser.add_argument("--backend", help=f"generation backend of the student (default {STUDENT_BACKEND})")
    add_task_selection(parser, required=False)
    parser.add_argument("--max-generations", type=int, help=with_default("generations per task", EvolutionConfig,
                                                                         "max_generations", STUDENT_EVOLUTION.max_generations))
    parser.add_argument("--population", type=int, help=with_default("candidates per generation", EvolutionConfig,
                                                                    "population", STUDENT_EVOLUTION.population))
    parser.add_argument("--max-new-tokens", type=int, help=with_default("tokens per program", EvolutionConfig,
                                                                        "max_new_tokens", STUDENT_EVOLUTION.max_new_tokens))
    parser.add_argument("--temperature", type=float, help=with_default("sampling temperature", EvolutionConfig, "temperature"))
    parser.add_argument("--grammar", choices=("arcdsl",), help="sample under the arcdsl solver grammar: every program a "
                        "well-formed solver of 1-3 arcdsl calls (hf or vllm students)")
    parser.add_argument("--prompt", choices=("full", "compact"), help="the prompt the student was trained on (compact: "
                        "`arcray prepare --prompt compact`; default full)")
    add_facts(parser)
    add_exemplars(parser, pool=True)
    parser.add_argument("--concurrency", type=int, help=with_default("model replicas (actors)", EvaluateConfig, "concurrency"))
    parser.add_argument("--gpu", action="store_true", help="one GPU per replica")
    parser.add_argument("--out", required=True, metavar="RUN_DIR", help="a folder or a storage URI (s3://…)")
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from arcray.pipelines.evaluate import STUDENT_EVOLUTION, EvaluateConfig, run_evaluate, trained_adapter

    from arcray.llm.registry import student_config

    adapter, data = trained_adapter(args.adapter) if args.adapter else (None, None)
    student = student_config(args.model, adapter, backend=args.backend)
    given = {k: getattr(args, k) for k in ("max_generations", "population", "max_new_tokens", "temperature", "grammar")
             if getattr(args, k) is not None}
    evolution = {**STUDENT_EVOLUTION.model_dump(), **given}
    fields = {"concurrency": args.concurrency} if args.concurrency is not None else {}
    fields.update(render_fields(args))
    if args.data or data:
        fields["data"] = args.data or data
    config = EvaluateConfig.build(student=student, tasks=args.tasks, ids=args.ids, limit=args.limit, max_cells=args.max_cells, evolution=evolution,
                                  num_gpus_per_actor=1.0 if args.gpu else 0.0, out=args.out, **fields)
    summary = run_evaluate(config, progress=not args.json)
    if args.json:
        print_json({"out": str(args.out), **summary})
        return 0
    from arcray.arc.scoring import format_figure

    figures = summary["figures"]
    print(f"tasks {summary['attempted']}: solved {summary['solved_pass2']} (pass@2) "
          + (f"{format_figure(figures['solved'])}, pass@1 {summary['solved_pass1']}, " if figures else "")
          + f"train-fit {summary['train_fit']}; fitness mean {summary['fitness']['mean']} max {summary['fitness']['max']}")
    print(f"programs written {summary['programs']}, runnable (a grid for every train input) {summary['runnable_share']:.1%}")
    if summary["submission_score"] is not None:
        print(f"submission score {summary['submission_score']:.4f} ({summary['test_outputs_correct']}/{summary['test_outputs']})")
    print(f"submission: {args.out.rstrip('/')}/submission.json")
    return 0
