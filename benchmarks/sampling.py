"""Self-consistency sampling throughput: n samples per prompt in one batched call, against one at a time.

    python benchmarks/sampling.py                # 16 prompts x n=10 on SmolLM2, 32 new tokens each
    python benchmarks/sampling.py --smoke-test   # seconds: checks the script runs

Both modes generate exactly the same number of tokens (``ignore_eos``: every completion runs to
``--max-new-tokens``), so new tokens per second compare like for like. Target: batched >= 4x.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from arcray.llm import SamplingParams, get_backend

TARGET_RATIO = 4.0
PROMPTS = [
    "What is 17 + 25? Answer with the number.",
    "Name the capital of France and one thing it is famous for.",
    "A grid is flipped left to right. What happens to its first column?",
    "If a train leaves at 3pm and travels 2 hours, when does it arrive?",
    "Write a Python function that returns the square of a number.",
    "Which is larger, 0.7 or 0.65? Explain briefly.",
    "Give three colours of the rainbow.",
    "What is the next number: 2, 4, 8, 16, ...?",
    "Translate 'good morning' into Spanish.",
    "How many sides does a hexagon have?",
    "A rectangle is 3 by 4. What is its area?",
    "Sort these numbers: 9, 2, 7, 4.",
    "What does a for loop do in Python?",
    "If all cells of a 3x3 grid are red except the centre, what colour is the centre likely to be?",
    "What is 12 times 12?",
    "Describe a square in one sentence.",
]


def chat(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def timed(run) -> tuple[float, int]:
    start = time.perf_counter()
    completions = run()
    seconds = time.perf_counter() - start
    return seconds, sum(c.completion_tokens for row in completions for c in row)


def batched(backend, prompts, params):
    """All prompts, all n samples: one generate call."""
    return backend.generate(prompts, params)


def sequential(backend, prompts, params):
    """Each sample of each prompt on its own: n calls per prompt."""
    one = params.model_copy(update={"n": 1})
    return [[backend.generate([prompt], one, first_sample=i)[0][0] for i in range(params.n)] for prompt in prompts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("-n", type=int, default=10)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, help="torch CPU threads (1 resists a busy host's noise)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--smoke-test", action="store_true", help="2 prompts, n=2, 4 tokens")
    args = parser.parse_args()
    if args.smoke_test:
        args.prompts, args.n, args.max_new_tokens = 2, 2, 4

    import torch
    from transformers.utils import logging as hf_logging

    if args.threads:
        torch.set_num_threads(args.threads)

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()

    prompts = [chat(text) for text in PROMPTS[: args.prompts]]
    params = SamplingParams(n=args.n, temperature=0.7, max_new_tokens=args.max_new_tokens, seed=0, ignore_eos=True)
    with get_backend("hf", model=args.model, device=args.device, batch_size=len(prompts)) as backend:
        backend.generate(prompts[:1], params.model_copy(update={"n": 2, "max_new_tokens": 2}))  # warm-up
        batched_s, batched_tokens = timed(lambda: batched(backend, prompts, params))
        print(f"batched: {batched_tokens} tokens in {batched_s:.1f} s", file=sys.stderr, flush=True)
        sequential_s, sequential_tokens = timed(lambda: sequential(backend, prompts, params))
        device = backend.device

    assert batched_tokens == sequential_tokens == len(prompts) * args.n * args.max_new_tokens
    figures = {
        "model": args.model,
        "device": device,
        "threads": torch.get_num_threads(),
        "prompts": len(prompts),
        "n": args.n,
        "new_tokens": batched_tokens,
        "batched_s": round(batched_s, 2),
        "sequential_s": round(sequential_s, 2),
        "batched_tokens_per_s": round(batched_tokens / batched_s, 1),
        "sequential_tokens_per_s": round(sequential_tokens / sequential_s, 1),
        "ratio": round(sequential_s / batched_s, 2),
        "target_ratio": TARGET_RATIO,
    }
    if args.json:
        print(json.dumps(figures))
        return
    print(f"{args.model} on {device}: {len(prompts)} prompts x n={args.n}, {args.max_new_tokens} new tokens each")
    load = os.getloadavg()[0]
    print(f"  (host: {os.cpu_count()} CPUs, {figures['threads']} torch threads, load average {load:.1f} at the end)")
    print(f"  batched    (1 call)          {figures['batched_tokens_per_s']:8.1f} new tokens/s  ({batched_s:.1f} s)")
    print(
        f"  sequential ({len(prompts) * args.n} calls)      {figures['sequential_tokens_per_s']:8.1f} new tokens/s"
        f"  ({sequential_s:.1f} s)"
    )
    verdict = "meets" if figures["ratio"] >= TARGET_RATIO else "misses"
    print(f"  ratio {figures['ratio']:.2f}x ({verdict} the {TARGET_RATIO:g}x target)")


if __name__ == "__main__":
    main()
