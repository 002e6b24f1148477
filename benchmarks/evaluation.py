"""Student evaluation throughput: tasks one after another (as the stage ran them) against all of
an actor's tasks at once, their generate calls merged into batched engine calls.

    python benchmarks/evaluation.py                # 30 held-out arc1/eval tasks on SmolLM2
    python benchmarks/evaluation.py --tasks 8 --max-new-tokens 128
    python benchmarks/evaluation.py --smoke-test   # 2 tasks, 8 tokens: checks the script runs

Both ways run the real evolution loop (``arcray.civilization.run_evolution``) with the student
settings of ``arcray evaluate`` on the same tasks, the same model and the same sandbox, in one
process with no Ray, so the figures are the engine's, not the scheduler's. Sampled programs end
at different lengths, so the measure is new tokens per second, not wall time. Target: >= 5x.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from arcray.arc.render import RenderConfig
from arcray.arc.sandbox import Sandbox
from arcray.arc.tasks import load_tasks
from arcray.civilization import run_evolution
from arcray.llm import get_backend
from arcray.pipelines.evaluate import STUDENT_EVOLUTION

TARGET_RATIO = 5.0


def small_tasks(source: str, count: int, render: RenderConfig) -> list:
    """The ``count`` tasks of ``source`` with the shortest prompts (what a CPU config picks)."""
    from arcray.civilization import prompts

    tasks = load_tasks(source)
    size = {t.id: sum(len(m["content"]) for m in prompts.programmer_prompt(t, "", render)) for t in tasks}
    return sorted(tasks, key=lambda t: (size[t.id], t.id))[:count]


def evaluate(backend, tasks, sandbox, evolution, render, *, at_once: int) -> tuple[float, int, int]:
    """(seconds, new tokens, programs written) for every task, ``at_once`` of them in flight."""
    def one(task):
        result = run_evolution(task, backend, sandbox, evolution, render)
        return sum(1 for c in result.candidates if c.error is None), result.usage.completion_tokens

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=at_once) as pool:
        done = list(pool.map(one, tasks))
    return time.perf_counter() - start, sum(t for _, t in done), sum(p for p, _ in done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto", choices=("auto", "float32", "bfloat16"),
                        help="both runs' dtype (the main job samples in bfloat16 on CPUs with AVX512-BF16)")
    parser.add_argument("--source", default="arc1/eval")
    parser.add_argument("--tasks", type=int, default=30)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--max-generations", type=int, default=1)
    parser.add_argument("--batch-size", type=int, help="prompts per engine call when batched (default: the hf backend's batch_size)")
    parser.add_argument("--only-batched", action="store_true", help="skip the one-at-a-time run (exploring settings)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--smoke-test", action="store_true", help="2 tasks, 8 tokens")
    args = parser.parse_args()
    if args.smoke_test:
        args.tasks, args.max_new_tokens = 2, 8

    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    render = RenderConfig()
    evolution = STUDENT_EVOLUTION.model_copy(update={"max_new_tokens": args.max_new_tokens,
                                                     "max_generations": args.max_generations})
    tasks = small_tasks(args.source, args.tasks, render)
    with Sandbox() as sandbox:
        today = (float("nan"), 0, 0)
        if not args.only_batched:
            with get_backend("hf", model=args.model, device=args.device, dtype=args.dtype) as plain:
                plain.generate(["warm-up"], evolution_params(evolution))
                today = evaluate(plain, tasks, sandbox, evolution, render, at_once=1)
            print(f"one task at a time: {today[1]} tokens in {today[0]:.1f} s", file=sys.stderr, flush=True)
        sizes = {"batch_size": args.batch_size} if args.batch_size else {}  # else the hf backend's own (16)
        with get_backend("hf", model=args.model, device=args.device, dtype=args.dtype, callers=len(tasks), **sizes) as shared:
            device = shared.inner.device
            shared.generate(["warm-up"], evolution_params(evolution))
            shared.stats = type(shared.stats)()  # count the evaluation's engine calls only
            merged = evaluate(shared, tasks, sandbox, evolution, render, at_once=len(tasks))
            stats = shared.stats.to_dict()

    per_s = [tokens / seconds for seconds, tokens, _ in (today, merged)]
    figures = {
        "model": args.model, "device": device, "dtype": args.dtype, "tasks": len(tasks), "max_new_tokens": args.max_new_tokens,
        "max_generations": args.max_generations, "population": evolution.population,
        "one_at_a_time": {"seconds": round(today[0], 1), "new_tokens": today[1], "programs": today[2],
                          "tokens_per_s": round(per_s[0], 1)},
        "batched_across_tasks": {"seconds": round(merged[0], 1), "new_tokens": merged[1], "programs": merged[2],
                                 "tokens_per_s": round(per_s[1], 1), "engine": stats},
        "ratio": round(per_s[1] / per_s[0], 2), "target_ratio": TARGET_RATIO,
    }
    if args.json:
        print(json.dumps(figures))
        return
    print(f"{args.model} on {device}: {len(tasks)} {args.source} tasks, population {evolution.population}, "
          f"{args.max_generations} generation(s), up to {args.max_new_tokens} new tokens per program")
    print(f"  (host: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end)")
    print(f"  one task at a time     {per_s[0]:8.1f} new tokens/s  ({today[0]:.1f} s, {today[1]} tokens)")
    print(f"  all tasks, batched     {per_s[1]:8.1f} new tokens/s  ({merged[0]:.1f} s, {merged[1]} tokens; "
          f"{stats['engine_calls']} engine calls of {stats['mean_prompts']} prompts on average)")
    verdict = "meets" if figures["ratio"] >= TARGET_RATIO else "misses"
    print(f"  ratio {figures['ratio']:.2f}x ({verdict} the {TARGET_RATIO:g}x target)")


def evolution_params(evolution):
    from arcray.llm import SamplingParams

    return SamplingParams(n=1, temperature=evolution.temperature, max_new_tokens=4)


if __name__ == "__main__":
    main()
