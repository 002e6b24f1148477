"""`arcray consistency`, `arcray sc-generate`, `arcray sc-gates`: self-consistency on Ray Data.

    arcray consistency --backend hf --model smollm2-135m --category math --limit 20 -n 10 --temperature 0.7 --out runs/sc-math
    arcray sc-generate --backend hf --model smollm2-135m --from runs/sc-math/failures.jsonl --out runs/sc-gen
    arcray sc-gates runs/sc-math runs/sc-code
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from arcray.cli._common import add_json_flag, load_yaml_config, print_json, quiet_transformers, set_if_given
from arcray.experiment import section
from arcray.errors import ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    from arcray.consistency.categories import DEFAULT_TEMPERATURES
    from arcray.pipelines.sampling import ConsistencyConfig, GenerateConfig
    from arcray.validation import with_default

    measure = subparsers.add_parser(
        "consistency", help="sample prompts n times: consistency, ties, accuracy, gates (Ray Data)",
        description="Sample every prompt n times across model actors; extract answers, vote, and measure consistency, "
        "distinct responses, tie rate, accuracy and maj@n. Writes RUN_DIR/{samples.jsonl,failures.jsonl,summary.json,"
        "report.md}; re-running resumes.",
    )
    _add_common(measure)
    measure.add_argument("-n", type=int, help=with_default("samples per prompt", ConsistencyConfig, "n"))
    measure.add_argument("--temperature", type=float, help=with_default("sampling temperature", ConsistencyConfig, "temperature"))
    measure.add_argument("--failure-threshold", type=float,
                         help=with_default("consistency below this is a failure", ConsistencyConfig, "failure_threshold"))
    measure.set_defaults(handler=run_measure)

    generate = subparsers.add_parser(
        "sc-generate", help="generate self-consistency training data at each category's temperature (Ray Data)",
        description="Answer every prompt at its category's generate temperature ("
        + ", ".join(f"{name.upper()} {row.generate}" for name, row in DEFAULT_TEMPERATURES.items())
        + ") and write RUN_DIR/sc.jsonl for `arcray prepare`.",
    )
    _add_common(generate)
    generate.add_argument("--from", dest="from_file", type=Path, metavar="FAILURES.jsonl",
                          help="the prompts of an earlier run's failures.jsonl (or samples.jsonl)")
    generate.add_argument("-n", "--samples-per-prompt", dest="n", type=int,
                          help=with_default("responses per prompt", GenerateConfig, "samples_per_prompt"))
    generate.add_argument("--majority-only", action="store_true", help="keep only answers the majority agrees with")
    generate.add_argument("--correct-only", action="store_true", help="keep only answers judged correct")
    generate.add_argument("--max-per-prompt", type=int,
                          help=with_default("training records per prompt", GenerateConfig, "max_per_prompt"))
    generate.set_defaults(handler=run_generate)

    gates = subparsers.add_parser(
        "sc-gates", help="judge consistency runs against the plan's decision gates",
        description="Pool the prompts of one or more `arcray consistency` runs and print each gate pass/fail with the numbers.",
    )
    gates.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR")
    gates.add_argument("--config", type=Path, metavar="YAML", help="a config whose 'gates' replace the plan's")
    add_json_flag(gates)
    gates.set_defaults(handler=run_gates)


def _add_common(parser: argparse.ArgumentParser) -> None:
    from arcray.pipelines.sampling import ConsistencyConfig
    from arcray.validation import with_default

    parser.add_argument("--config", type=Path, metavar="YAML", help="a config file; flags override it")
    parser.add_argument("--backend", help="generation backend (default hf)")
    parser.add_argument("--model", metavar="NAME", help="model: smollm2-135m (default), a folder or a hub id")
    parser.add_argument("--adapter", type=Path, metavar="DIR", help="hf: a PEFT adapter on top of the model")
    from arcray.consistency.categories import CATEGORIES

    parser.add_argument("--category", help=", ".join(CATEGORIES))
    parser.add_argument("--dataset", metavar="SOURCE",
                        help="arith (math default), humaneval (code default), gsm8k:PATH, mbpp:PATH, prompts:PATH, run:PATH")
    parser.add_argument("--limit", type=int, metavar="N", help="only N prompts")
    parser.add_argument("--offset", type=int, metavar="N", help="skip the first N prompts")
    parser.add_argument("--dataset-seed", type=int, metavar="S", help="arith: the problem stream (default 0)")
    parser.add_argument("--split", choices=("all", "train", "heldout"), help="arith: disjoint train/held-out questions")
    parser.add_argument("--max-new-tokens", type=int, help=with_default("tokens per response", ConsistencyConfig, "max_new_tokens"))
    parser.add_argument("--seed", type=int, help=with_default("sampling seed", ConsistencyConfig, "seed"))
    parser.add_argument("--concurrency", type=int, help=with_default("model replicas at once", ConsistencyConfig, "concurrency"))
    parser.add_argument("--pipeline", choices=("actors", "ray-data-llm"),
                        help=with_default("actors: one backend per Ray Data actor; ray-data-llm: Ray Data LLM's vLLM engines "
                                          "(--backend vllm)", ConsistencyConfig, "pipeline"))
    parser.add_argument("--batch-size", type=int, help=with_default("prompts per generate call", ConsistencyConfig, "batch_size"))
    parser.add_argument("--num-cpus-per-actor", type=float,
                        help=with_default("CPUs (torch threads) per replica", ConsistencyConfig, "num_cpus_per_actor"))
    parser.add_argument("--num-gpus-per-actor", type=float, help="GPUs per replica (default: 1 when the cluster has GPUs)")
    parser.add_argument("--out", type=Path, help="run directory")
    add_json_flag(parser)


def _raw_config(args: argparse.Namespace) -> dict[str, Any]:
    raw = load_yaml_config(args.config)
    student = dict(section(raw, "student"))
    set_if_given(student, "backend", args.backend)
    set_if_given(student, "model", args.model)
    set_if_given(student, "adapter", args.adapter)
    from arcray.llm.registry import STUDENT_BACKEND

    student.setdefault("backend", STUDENT_BACKEND)  # the model: the backend config's default unless given
    if student["backend"] == "hf":
        quiet_transformers()
    raw["student"] = student
    dataset = dict(section(raw, "dataset"))
    from_file = getattr(args, "from_file", None)
    if from_file and args.dataset:
        raise ConfigError("pass --from FAILURES.jsonl or --dataset SOURCE, not both")
    set_if_given(dataset, "source", from_file and f"run:{from_file}")
    set_if_given(dataset, "source", args.dataset)
    set_if_given(dataset, "category", args.category and args.category.lower())
    set_if_given(dataset, "limit", args.limit)
    set_if_given(dataset, "offset", args.offset)
    set_if_given(dataset, "seed", args.dataset_seed)
    set_if_given(dataset, "split", args.split)
    if not dataset.get("source"):
        if not dataset.get("category"):
            raise ConfigError("pass --category (math and code have built-in datasets) or --dataset SOURCE")
        from arcray.consistency import default_source

        dataset["source"] = default_source(dataset["category"])
    raw["dataset"] = dataset
    for key in ("max_new_tokens", "seed", "concurrency", "pipeline", "batch_size", "num_cpus_per_actor", "num_gpus_per_actor", "out"):
        set_if_given(raw, key, getattr(args, key))
    if not raw.get("out"):
        raise ConfigError("--out is required (or set 'out' in --config)")
    return raw


def run_measure(args: argparse.Namespace) -> int:
    from arcray.consistency import evaluate_gates, format_gates
    from arcray.pipelines.sampling import ConsistencyConfig, run_consistency

    raw = _raw_config(args)
    set_if_given(raw, "n", args.n)
    set_if_given(raw, "temperature", args.temperature)
    set_if_given(raw, "failure_threshold", args.failure_threshold)
    config = ConsistencyConfig.build(**raw)
    summary = run_consistency(config, progress=not args.json)
    if args.json:
        print_json({"out": str(config.out), **summary})
        return 1 if summary["errors"] else 0
    print(_metrics_line(summary))
    for category, values in summary["by_category"].items():
        if len(summary["by_category"]) > 1:
            print(f"  {category}: " + _metrics_line({"metrics": values, "prompts": None}))
    print(f"failures (wrong or consistency < {config.failure_threshold}): {summary['failures']} -> "
          f"{config.out / 'failures.jsonl'}")
    board = {"all": summary["metrics"], **summary["by_category"]}
    print(format_gates(evaluate_gates(board, config.gates)))
    _errors_line(summary)
    print(f"run directory: {config.out}")
    return 1 if summary["errors"] else 0


def run_generate(args: argparse.Namespace) -> int:
    from arcray.pipelines.sampling import GenerateConfig, run_sc_generate

    raw = _raw_config(args)
    set_if_given(raw, "samples_per_prompt", args.n)
    set_if_given(raw, "max_per_prompt", args.max_per_prompt)
    if args.majority_only:
        raw["majority_only"] = True
    if args.correct_only:
        raw["correct_only"] = True
    config = GenerateConfig.build(**raw)
    summary = run_sc_generate(config, progress=not args.json)
    if args.json:
        print_json({"out": str(config.out), **summary})
        return 1 if summary["errors"] else 0
    print(f"{summary['records']} training records from {summary['prompts']} prompts -> {config.out / 'sc.jsonl'}; "
          f"by category {summary['by_category']}")
    if summary["prompts_without_record"]:
        print(f"prompts without a record: {summary['prompts_without_record']}")
    print("temperatures (generate/train): " + ", ".join(
        f"{c} {t['generate']}/{t['train']}" for c, t in summary["temperatures"].items()))
    _errors_line(summary)
    return 1 if summary["errors"] else 0


def run_gates(args: argparse.Namespace) -> int:
    from arcray.consistency import DEFAULT_GATES, Gate, evaluate_gates, format_gates, scoreboard
    from arcray.runtime.rundir import RunDir
    from arcray.consistency.records import SAMPLES, samples_from_json
    from arcray.validation import build_config

    gates = list(DEFAULT_GATES)
    if args.config:
        raw_gates = load_yaml_config(args.config).get("gates")
        if raw_gates:
            gates = [build_config(Gate, f"{args.config}: gates", **g) for g in raw_gates]
    pairs = []
    for path in args.runs:
        if not (path / SAMPLES).is_file():
            raise ConfigError(f"{path} has no {SAMPLES}; pass the --out of `arcray consistency`")
        samples = samples_from_json(RunDir(path).read_records(SAMPLES), where=str(path / SAMPLES))
        pairs.extend((s.category, s.metrics) for s in samples)
    board = scoreboard(pairs)
    results = evaluate_gates(board, gates)
    if args.json:
        print_json({"scoreboard": board, "gates": [r.to_dict() for r in results]})
    else:
        for scope, values in board.items():
            print(f"{scope}: " + _metrics_line({"metrics": values, "prompts": None}))
        print(format_gates(results))
    return 0 if all(r.status == "pass" for r in results) else 1


def _metrics_line(summary: dict[str, Any]) -> str:
    m = summary["metrics"]

    def show(key: str, digits: int = 3) -> str:
        return "—" if m.get(key) is None else f"{m[key]:.{digits}f}"

    head = f"{summary['prompts']} prompts x {summary['n']} at T={summary['temperature']}: " if summary.get("prompts") else ""
    return (f"{head}consistency {show('consistency')}, distinct responses {show('distinct_responses', 1)}, "
            f"distinct answers {show('distinct_answers', 1)}, tie rate {show('tie_rate')}, accuracy {show('accuracy')}, "
            f"maj@n {show('maj_accuracy')}")


def _errors_line(summary: dict[str, Any]) -> None:
    if summary["errors"]:
        print(f"{summary['errors']} prompt(s) failed to generate and were not recorded; re-run the same command to retry")
