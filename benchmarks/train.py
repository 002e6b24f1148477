"""Training throughput: the plan's pad-every-example-to-2048 tokenisation against arcray's.

    python benchmarks/train.py                   # 32 ARC chats on SmolLM2, batch 4, 4-bit, one worker
    python benchmarks/train.py --data DATA_DIR   # the examples of an `arcray prepare` run instead
    python benchmarks/train.py --small-random    # SmolLM2's tokenizer on a small random Llama: CPU-sized
    python benchmarks/train.py --smoke-test      # seconds: a tiny model, checks the script runs
    python benchmarks/train.py --settings --data DATA_DIR   # the main job's settings before and after issue 15

``--settings`` compares ways to train the same examples on CPU, each in its own process (glibc
reads its malloc settings at start): *before*, the main job's settings until issue 15 (batch 2,
activation checkpointing on, glibc's default malloc, fp32); *after* (batch 1, no activation
checkpointing on a full-precision CPU run, ``CPU_MALLOC_ENV``); and *after+bf16*, the main job's
today (the same with bfloat16 autocast, for CPUs with AVX512-BF16 or AMX). It prints real
tokens/s, the share of the machine's measured fp32 matmul peak that 6 x parameters x tokens/s
makes, and the ratio of each to *before*. Target: >= 2x before.

Both runs use the same examples, model, LoRA, batch size and trainer (TRL's SFTTrainer, built by
the Ray worker's own ``build_trainer`` in this one process). Only the tokenisation differs:

* plan: the chat rendered as text, ``padding="max_length"`` to 2048, loss on every real token;
* arcray: prompt–completion rows, loss on the answer only, each batch padded to its longest
  example, batches grouped by length.

Throughput counts real (non-pad) tokens per second of training steps; the first step of each
run is a warm-up and is left out. Target: arcray >= 3x the plan.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_RATIO = 3.0
SETTINGS_TARGET = 2.0
# --settings: what differs between the two arms (everything else is TrainConfig's, full precision)
ARMS = {
    "before": {"batch_size": 2, "activation_checkpointing": True, "malloc": False, "bf16": False},
    "after": {"batch_size": 1, "activation_checkpointing": None, "malloc": True, "bf16": False},
    "after+bf16": {"batch_size": 1, "activation_checkpointing": None, "malloc": True, "bf16": True},  # the main job's
}
PLAN_LENGTH = 2048
ANSWER = '''The output is the input with every {a} cell recoloured {b}, and the grid mirrored left to right.

```python
def solve(grid):
    rows = [list(row) for row in grid]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value == {a}:
                rows[r][c] = {b}
    return [row[::-1] for row in rows]
```'''


# -- examples --------------------------------------------------------------------------------
def arc_chats(count: int, tokenizer: Any, max_tokens: int) -> list[dict[str, Any]]:
    """Prompt–completion rows of real ARC prompts (as `arcray prepare` renders them) that fit ``max_tokens``."""
    from arcray.arc.render import RenderConfig
    from arcray.arc.tasks import load_tasks
    from arcray.civilization import prompts

    rows = []
    for task in load_tasks("arc1/train"):
        prompt = prompts.programmer_prompt(task, "", RenderConfig())
        completion = [{"role": "assistant", "content": ANSWER.format(a=len(rows) % 10, b=(len(rows) + 3) % 10)}]
        if len(tokenizer.apply_chat_template(prompt + completion, tokenize=False)) // 2 > max_tokens:
            continue  # characters / 2 over-estimates tokens on grids of digits: a cheap pre-filter
        if _length(tokenizer, prompt + completion) <= max_tokens:
            rows.append({"prompt": prompt, "completion": completion})
        if len(rows) == count:
            return rows
    return rows


def tiny_chats(count: int) -> list[dict[str, Any]]:
    return [{"prompt": [{"role": "user", "content": "what is two plus three? " * (1 + i % 6)}],
             "completion": [{"role": "assistant", "content": "two plus three is five " * (1 + i % 3)}]} for i in range(count)]


def small_random_model(tokenizer_path: str, folder: Path, hidden_size: int) -> str:
    """A 2-layer random Llama that speaks ``tokenizer_path``'s tokens: real lengths, little compute."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_path)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=2 * hidden_size, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096, tie_word_embeddings=False,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id)
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def _length(tokenizer: Any, messages: list[dict[str, str]]) -> int:
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def plan_rows(rows: list[dict[str, Any]], tokenizer: Any, length: int) -> list[dict[str, Any]]:
    """The plan's tokenisation: whole chat as text, padded to ``length``, labels on every real token."""
    out = []
    for row in rows:
        text = tokenizer.apply_chat_template(row["prompt"] + row["completion"], tokenize=False)
        encoded = tokenizer(text, truncation=True, max_length=length, padding="max_length", add_special_tokens=False)
        labels = [t if m else -100 for t, m in zip(encoded["input_ids"], encoded["attention_mask"])]
        out.append({"input_ids": encoded["input_ids"], "labels": labels})
    return out


# -- one timed run ---------------------------------------------------------------------------
def timed_run(config: Any, rows: list[dict[str, Any]], model_path: str, steps: int, *, padded: bool) -> dict[str, Any]:
    """Train ``steps`` optimiser steps; real tokens per second over all but the first."""
    from transformers import TrainerCallback

    from arcray.training.worker import build_trainer

    tokens: list[int] = []
    seconds: list[float] = []

    class StepClock(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            self.started = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            seconds.append(time.perf_counter() - self.started)

    with tempfile.TemporaryDirectory() as output_dir:
        trainer = build_trainer(config, rows, [], model_path=model_path, output_dir=output_dir, device="cpu",
                                callbacks=[StepClock()])
        collate = trainer.data_collator

        def counting(examples):
            batch = collate(examples)
            # plan rows: labels mark exactly the real tokens; arcray rows hold no padding at all
            tokens.append(sum(sum(1 for t in e["labels"] if t != -100) if padded else len(e["input_ids"]) for e in examples))
            return batch

        trainer.data_collator = counting
        trainer.args.max_steps = steps
        trainer.args.save_strategy = "no"
        trainer.train()
    width = [PLAN_LENGTH] if padded else []
    timed_tokens, timed_seconds = sum(tokens[1:steps]), sum(seconds[1:steps])
    return {"steps": len(seconds), "seconds_per_step": round(timed_seconds / max(1, len(seconds) - 1), 2),
            "real_tokens": timed_tokens, "tokens_per_s": round(timed_tokens / timed_seconds, 1), "padded_to": width}


# -- --settings: before and after, each in its own process ------------------------------------
def settings_arm(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """One arm, in this process: train every selected example once; tokens/s over all but the first step."""
    from arcray.llm.hf import resolve_model
    from arcray.training.config import TrainConfig
    from arcray.training.data import load_training_data
    from arcray.runtime.ray_setup import use_cpu_threads

    arm = ARMS[name]
    use_cpu_threads(args.threads, "cpu")
    rows = load_training_data(args.data).train[: args.examples]
    model_path = resolve_model(args.model)
    work = Path(tempfile.mkdtemp(prefix="arcray-bench-train-"))
    (work / "data" / "dataset").mkdir(parents=True)
    config = TrainConfig.build(data=work / "data", model=model_path, out=work / "run", batch_size=arm["batch_size"],
                               grad_accum=1, epochs=1, max_length=args.max_length, load_in_4bit=False,
                               activation_checkpointing=arm["activation_checkpointing"], bf16=arm["bf16"])
    steps = -(-len(rows) // arm["batch_size"])
    result = timed_run(config, rows, model_path, steps, padded=False)
    return {**result, "arm": name, **arm, "examples": len(rows), "checkpointing": config.checkpointing()}


def run_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Both arms as subprocesses of this script, then the machine's peak, in this process."""
    import subprocess
    import sys

    import torch

    from arcray.llm.hf import resolve_model
    from arcray.training.train import CPU_MALLOC_ENV
    from machine import fp32_matmul_gflops

    arms = {}
    for name, arm in ARMS.items():
        env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
        if arm["malloc"]:
            env.update(CPU_MALLOC_ENV)
        command = [sys.executable, __file__, "--arm", name, "--data", str(args.data), "--model", args.model,
                   "--examples", str(args.examples), "--max-length", str(args.max_length), "--threads", str(args.threads)]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"the {name} arm failed:\n{done.stderr[-2000:]}")
        arms[name] = json.loads(done.stdout.strip().splitlines()[-1])
    from transformers import AutoConfig, AutoModelForCausalLM

    with torch.device("meta"):
        parameters = sum(p.numel() for p in AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(resolve_model(args.model))).parameters())
    peak = fp32_matmul_gflops(threads=args.threads)
    for arm in arms.values():
        arm["share_of_peak"] = round(6 * parameters * arm["tokens_per_s"] / (peak * 1e9), 3)
    for arm in arms.values():
        arm["ratio"] = round(arm["tokens_per_s"] / arms["before"]["tokens_per_s"], 2)
    return {"model": args.model, "parameters": parameters, "fp32_matmul_gflops": peak, "threads": args.threads, **arms,
            "ratio": arms["after+bf16"]["ratio"], "target": SETTINGS_TARGET}


def print_settings(report: dict[str, Any]) -> None:
    print(f"{report['model']} ({report['parameters'] / 1e6:.1f}M parameters), {report['threads']} threads; "
          f"measured fp32 matmul peak {report['fp32_matmul_gflops']} GFLOP/s")
    for name in ARMS:
        arm = report[name]
        print(f"{name:<10} batch {arm['batch_size']}, checkpointing {'on' if arm['checkpointing'] else 'off'}, "
              f"malloc {'kept' if arm['malloc'] else 'default'}, {'bf16' if arm['bf16'] else 'fp32'}: {arm['tokens_per_s']:>6} "
              f"real tokens/s ({arm['real_tokens']} tokens, {arm['steps']} steps), {arm['share_of_peak']:.0%} of the fp32 peak "
              f"(6 x params x tokens/s), {arm['ratio']:.2f}x before")
    print(f"main job's settings (after+bf16): {report['ratio']:.2f}x before (target >= {report['target']}x)")


# -- main ------------------------------------------------------------------------------------
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--data", type=Path, metavar="DATA_DIR", help="train on this `arcray prepare` output's train split")
    parser.add_argument("--steps", type=int, default=4, help="optimiser steps per run, the first one untimed (default 4)")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--4bit", dest="load_in_4bit", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--small-random", type=int, metavar="HIDDEN", nargs="?", const=128,
                        help="train a random 2-layer Llama of this width (default 128) with --model's tokenizer instead of the model")
    parser.add_argument("--smoke-test", action="store_true", help="a tiny random model and short chats: seconds")
    parser.add_argument("--settings", action="store_true", help="before/after issue 15's CPU training settings on --data")
    parser.add_argument("--examples", type=int, default=8, help="--settings: the first N training examples of --data (default 8)")
    parser.add_argument("--max-length", type=int, default=1536, help="--settings: truncation length (the main job's: 1536)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="--settings: torch threads (default: every CPU)")
    parser.add_argument("--arm", choices=sorted(ARMS), help=argparse.SUPPRESS)  # one --settings arm, in a subprocess
    parser.add_argument("--json", action="store_true")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if args.arm:
        print(json.dumps(settings_arm(args.arm, args)))
        return 0
    if args.settings:
        if not args.data:
            raise SystemExit("--settings trains on real data: pass --data DATA_DIR (the `prepare` folder of a main-job run, "
                             "e.g. runs/main/arc-distillation/data)")
        report = run_settings(args)
        print(json.dumps(report) if args.json else "", end="\n" if args.json else "")
        if not args.json:
            print_settings(report)
        return 0
    from transformers import AutoTokenizer

    from arcray.llm.hf import resolve_model
    from arcray.training.config import TrainConfig
    from arcray.training.data import load_training_data

    work = Path(tempfile.mkdtemp(prefix="arcray-bench-train-"))
    if args.smoke_test:
        import sys

        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.llm.tiny_models import build_tiny_llama

        model_path, steps, plan_length = str(build_tiny_llama(work / "tiny", hidden_size=64)), 2, 128
    else:
        model_path, steps, plan_length = resolve_model(args.model), args.steps, PLAN_LENGTH
        if args.small_random:
            model_path = small_random_model(model_path, work / "small-random", args.small_random)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    count = steps * args.batch_size
    if args.data:
        rows = load_training_data(args.data).train[:count]
    elif args.smoke_test:
        rows = tiny_chats(count)
    else:
        rows = arc_chats(count, tokenizer, plan_length)
    (work / "data" / "dataset").mkdir(parents=True)  # TrainConfig wants a prepared DATA_DIR; rows come from here
    config = TrainConfig.build(data=work / "data", model=model_path, out=work / "run", batch_size=args.batch_size, grad_accum=1,
                               epochs=1, max_length=plan_length, load_in_4bit=args.load_in_4bit)
    lengths = [_length(tokenizer, r["prompt"] + r["completion"]) for r in rows]
    plan = timed_run(config, plan_rows(rows, tokenizer, plan_length), model_path, steps, padded=True)
    arcray = timed_run(config, rows, model_path, steps, padded=False)
    ratio = arcray["tokens_per_s"] / plan["tokens_per_s"]
    name = "tiny-llama" if args.smoke_test else f"random-{args.small_random}d+{args.model}-tokenizer" if args.small_random else args.model
    report = {"model": name, "examples": len(rows), "batch_size": args.batch_size,
              "load_in_4bit": args.load_in_4bit, "mean_tokens": round(sum(lengths) / len(lengths), 1), "max_tokens": max(lengths),
              "plan": plan, "arcray": arcray, "ratio": round(ratio, 2), "target": TARGET_RATIO}
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{name}: {len(rows)} examples, mean {report['mean_tokens']} tokens (max {report['max_tokens']}); batch {args.batch_size}, "
              f"{'4-bit' if args.load_in_4bit else 'full-precision'} base, {steps} steps each (first untimed)")
        print(f"plan   (pad to {plan_length}): {plan['tokens_per_s']:>8} real tokens/s, {plan['seconds_per_step']} s/step")
        print(f"arcray (dynamic):     {arcray['tokens_per_s']:>8} real tokens/s, {arcray['seconds_per_step']} s/step")
        print(f"ratio {ratio:.2f}x (target >= {TARGET_RATIO}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
