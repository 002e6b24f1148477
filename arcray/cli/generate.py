"""`arcray generate`: ask a backend for completions of one prompt, for quick checks from a terminal.

arcray generate --backend hf --model smollm2-135m --prompt "What is 2+3?"
arcray generate --backend gemini --model gemini-2.5-flash --prompt "..." -n 3 --temperature 0.7 --json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from arcray.cli._common import quiet_transformers
from arcray.errors import ConfigError
from arcray.text import printable

MAX_NEW_TOKENS = 256  # a quick check reads a short answer; stages set their own budgets


def register(subparsers: argparse._SubParsersAction) -> None:
    from arcray.llm.registry import backend_names
    from arcray.llm.types import SamplingParams
    from arcray.validation import with_default

    parser = subparsers.add_parser(
        "generate",
        help="complete one prompt with a backend (quick checks)",
        description="Complete one prompt with a generation backend and print the completions.",
    )
    parser.add_argument("--backend", default="hf", help=f"backend name: {', '.join(backend_names())} (default: hf)")
    parser.add_argument("--model", help="model name, hub id or local folder (default: per backend)")
    parser.add_argument("--adapter", type=Path, help="hf: PEFT LoRA adapter folder to load on top of the model")
    parser.add_argument("--load-in-4bit", action="store_true", help="hf: quantize the base model to NF4")
    parser.add_argument("--prompt", required=True, help="the user message ('-' reads it from stdin)")
    parser.add_argument("--system", help="a system message before the prompt")
    parser.add_argument("--raw", action="store_true", help="send the prompt as plain text, without a chat turn")
    parser.add_argument("-n", type=int, help=with_default("completions to draw", SamplingParams, "n"))
    parser.add_argument("--temperature", type=float, help=with_default("0 is greedy", SamplingParams, "temperature"))
    parser.add_argument("--top-p", type=float, help=with_default("nucleus sampling mass", SamplingParams, "top_p"))
    parser.add_argument("--max-new-tokens", type=int, default=MAX_NEW_TOKENS, help=f"(default: {MAX_NEW_TOKENS}, short for quick checks)")
    parser.add_argument("--stop", action="append", default=[], help="stop string (repeatable)")
    parser.add_argument("--seed", type=int, help="sampling seed, for reproducible samples")
    parser.add_argument("--cache", type=Path, metavar="DIR", help="answer from / save to this response cache")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from arcray.llm import CacheConfig, SamplingParams, get_backend

    prompt = _prompt(args)
    given = {k: getattr(args, k) for k in ("n", "temperature", "top_p") if getattr(args, k) is not None}
    params = _build(SamplingParams, max_new_tokens=args.max_new_tokens, stop=tuple(args.stop), seed=args.seed, **given)
    fields: dict[str, Any] = {"model": args.model} if args.model else {}  # else the backend config's default
    if args.adapter is not None or args.load_in_4bit:
        if args.backend != "hf":
            raise ConfigError("--adapter and --load-in-4bit are for --backend hf; drop them or switch backend")
        fields.update(adapter=args.adapter, load_in_4bit=args.load_in_4bit)
    if args.backend == "hf":
        quiet_transformers()
    cache = CacheConfig(dir=args.cache) if args.cache else None
    with get_backend(args.backend, cache=cache, **fields) as backend:
        [completions] = backend.generate([prompt], params)
        report = backend.report()
    if args.json:
        payload = {
            "prompt": prompt,
            "params": params.model_dump(),
            **report,
            "completions": [c.to_dict() for c in completions],
        }
        print(json.dumps(payload, indent=2, default=str))
    else:
        _print_text(completions, report)
    return 0 if all(c.ok for c in completions) else 1


def _prompt(args: argparse.Namespace) -> Any:
    text = sys.stdin.read() if args.prompt == "-" else args.prompt
    if args.raw:
        if args.system:
            raise ConfigError("--system needs a chat prompt; drop --raw or --system")
        return text
    messages = [{"role": "system", "content": args.system}] if args.system else []
    return [*messages, {"role": "user", "content": text}]


def _build(config_class: Any, **values: Any) -> Any:
    from arcray.validation import build_config

    return build_config(config_class, "generate", **values)


def _print_text(completions: list[Any], report: dict[str, Any]) -> None:
    many = len(completions) > 1
    for index, completion in enumerate(completions, 1):
        if many:
            print(f"--- sample {index} ---")
        if completion.ok:
            print(printable(completion.text))  # a model's text may hold escape sequences
        else:
            print(f"[failed: {completion.error_kind}] {printable(completion.error, one_line=True)}")
    usage = report["usage"]
    cost = usage["estimated_cost_usd"]
    cost_text = f", ~${cost:.6f}" if cost else ""
    print(
        f"[{report['backend']} {report['model']}: {usage['prompt_tokens']} prompt + "
        f"{usage['completion_tokens']} completion tokens, {usage['cached']} cached{cost_text}]",
        file=sys.stderr,
    )
