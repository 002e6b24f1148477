"""Collection wall time: Ray Data across actors against the plan's one-task-after-another loop.

A fake Gemini server on 127.0.0.1 answers every request after ``--latency`` seconds (a
stand-in for API latency) with a solver that is wrong, so every task runs its full
evolution. Both sides run the same tasks with the same evolution settings through the real
SDK; the Ray side also reports the request rate the server saw. A second Ray run sets a
shared rate limit below what the actors would send and checks the server's observed rate
stays within 5% of it.

    python benchmarks/collect.py [--tasks 64] [--actors 16] [--latency 1.0] [--rate-limit 240]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fake_gemini import FakeGemini  # noqa: E402

from arcray.arc.sandbox import Sandbox  # noqa: E402
from arcray.arc.tasks import load_tasks  # noqa: E402
from arcray.civilization import EvolutionConfig, run_evolution  # noqa: E402
from arcray.llm import get_backend  # noqa: E402
from arcray.pipelines.collect import CollectConfig, run_collect  # noqa: E402

WRONG = "```python\ndef solve(grid):\n    return grid\n```"


def slow_teacher(latency: float):
    def answer(request):
        time.sleep(latency)
        return "Copy the grid." if "Do not write code" in request.user_text else WRONG

    return answer


def sequential(task_ids, teacher, evolution) -> float:
    tasks = load_tasks("arc1/train", ids=task_ids)
    start = time.perf_counter()
    with Sandbox() as sandbox, get_backend(teacher) as backend:
        for task in tasks:  # the plan's loop
            run_evolution(task, backend, sandbox, evolution)
    return time.perf_counter() - start


def on_ray(task_ids, teacher, evolution, actors, server, rate_limit=None, tasks_per_actor=1) -> tuple[float, float]:
    spec = dict(teacher)
    if rate_limit:
        spec["rate_limit"] = {"requests_per_minute": rate_limit, "burst_s": 2.0}
    out = Path(tempfile.mkdtemp(prefix="bench-collect-"))
    config = CollectConfig.build(tasks="arc1/train", ids=task_ids, teacher=spec, out=out, concurrency=actors,
                                 tasks_per_actor=tasks_per_actor, num_cpus_per_actor=0.1, cache={"enabled": False},
                                 evolution=evolution.model_dump())
    server.reset()
    start = time.perf_counter()
    run_collect(config, progress=False)
    wall = time.perf_counter() - start
    times = sorted(r.received_at for r in server.requests)
    # steady state: drop the first and last 10% of requests (actors starting, last tasks draining)
    trim = max(1, len(times) // 10)
    window = times[trim:-trim]
    rate = (len(window) - 1) / (window[-1] - window[0]) * 60 if len(window) > 2 else float("nan")
    return wall, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=64)
    parser.add_argument("--actors", type=int, default=16)
    parser.add_argument("--latency", type=float, default=1.0, help="seconds the fake API takes per request")
    parser.add_argument("--generations", type=int, default=3, help="evolution generations per task")
    parser.add_argument("--rate-limit", type=int, default=240, help="requests/minute for the binding-limit run")
    parser.add_argument("--tasks-per-actor", type=int, default=4, help="threads per actor in the second Ray run")
    parser.add_argument("--skip-sequential", action="store_true")
    args = parser.parse_args()

    task_ids = [t.id for t in load_tasks("arc1/train", limit=args.tasks)]
    evolution = EvolutionConfig(max_generations=args.generations, population=1, use_analyst=True)
    import ray

    with FakeGemini(slow_teacher(args.latency)) as server:
        os.environ.update(server.env())
        teacher = {"backend": "gemini", "model": "gemini-2.5-flash", "timeout_s": 30}
        calls = 1 + args.generations
        print(f"{args.tasks} tasks x {calls} calls of {args.latency:g} s each; {args.actors} actors")
        ray.init(num_cpus=os.cpu_count(), logging_level="ERROR")
        parallel, natural_rate = on_ray(task_ids, teacher, evolution, args.actors, server)
        print(f"ray data, {args.actors} actors x 1 task:  {parallel:8.1f} s  (server saw {natural_rate:.0f} requests/min)")
        threads = args.tasks_per_actor
        threaded, _ = on_ray(task_ids, teacher, evolution, args.actors // threads, server, tasks_per_actor=threads)
        print(f"ray data, {args.actors // threads} actors x {threads} tasks: {threaded:8.1f} s")
        limited, limited_rate = on_ray(task_ids, teacher, evolution, args.actors, server, args.rate_limit)
        drift = (limited_rate - args.rate_limit) / args.rate_limit
        print(f"with a shared limit of {args.rate_limit}/min: observed {limited_rate:.1f}/min ({drift:+.1%}; target within 5%)")
        ray.shutdown()
        if not args.skip_sequential:
            serial = sequential(task_ids, teacher, evolution)
            print(f"one after another (the plan):  {serial:8.1f} s")
            print(f"ratio, {args.actors} actors: {serial / parallel:.1f}x  (target >= 12x)")
            print(f"ratio, {args.actors // threads} actors x {threads} tasks: {serial / threaded:.1f}x")


if __name__ == "__main__":
    main()
