"""Evaluations per second: the warm, reused sandbox worker against a fresh interpreter each time.

Both sides run the same solvers on the same ARC grids with the same confinement (bubblewrap's
namespaces, seccomp, the audit hook): the fresh side starts a new sandbox, bwrap and interpreter
included, per evaluation and closes it after; the reused side keeps one worker, whose template
forks a pristine child per evaluation. Target: the reused worker at least 20x faster.
Measured here (2 cores, three runs of --evaluations 200/600/600): 299.8, 263.2 and 199.3
evaluations/s reused against 9.4, 9.0 and 8.4 fresh: 31.9x, 29.4x, 23.8x. The same runs of the
previous design (children forked from the loop that held the last reply): 29.0x, 33.6x, 31.9x.

    python benchmarks/sandbox.py [--evaluations 200]
"""

from __future__ import annotations

import argparse
import time

from arcray.arc.fitness import evaluate_solver
from arcray.arc.sandbox import Sandbox
from arcray.arc.tasks import load_tasks

SOLVERS = {
    "mirror": "def solve(grid):\n    return [row[::-1] for row in grid]\n",
    "transpose (numpy)": "import numpy as np\n\ndef solve(grid):\n    return np.array(grid).T.tolist()\n",
    "recolour": "def solve(grid):\n    return [[{1: 2, 2: 1}.get(c, c) for c in row] for row in grid]\n",
    "crop (numpy)": (
        "import numpy as np\n\ndef solve(grid):\n    a = np.array(grid)\n    ys, xs = np.nonzero(a)\n"
        "    if len(ys) == 0:\n        return grid\n    return a[ys.min():ys.max() + 1, xs.min():xs.max() + 1].tolist()\n"
    ),
}
TASK_IDS = ["67a3c6ac", "74dd1130", "0d3d703e", "1cf80156", "3c9b0459", "6150a2bd", "68b16354", "a416b8f3"]


def measure(evaluations: int, fresh: bool) -> float:
    tasks = load_tasks("arc1/train", ids=TASK_IDS)
    jobs = [(code, task) for code in SOLVERS.values() for task in tasks]
    sandbox = None if fresh else Sandbox()
    if sandbox:
        evaluate_solver(jobs[0][0], jobs[0][1], sandbox)  # warm start is paid once, outside the clock
    start = time.perf_counter()
    for i in range(evaluations):
        code, task = jobs[i % len(jobs)]
        if fresh:
            with Sandbox() as cold:
                evaluate_solver(code, task, cold)
        else:
            evaluate_solver(code, task, sandbox)
    elapsed = time.perf_counter() - start
    if sandbox:
        sandbox.close()
    return evaluations / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=200, help="solver evaluations per side (each = all of a task's inputs)")
    args = parser.parse_args()
    fresh_n = max(args.evaluations // 5, 10)
    fresh = measure(fresh_n, fresh=True)
    reused = measure(args.evaluations, fresh=False)
    print(f"fresh interpreter per evaluation: {fresh:8.1f} evaluations/s  ({fresh_n} evaluations)")
    print(f"reused sandbox worker:            {reused:8.1f} evaluations/s  ({args.evaluations} evaluations)")
    print(f"ratio: {reused / fresh:.1f}x  (target >= 20x)")
    with Sandbox() as probe:
        probe.run(SOLVERS["mirror"], [[[1]]])
        print(f"confined by the operating system: {probe.confined}, seccomp: {probe.seccomp}")


if __name__ == "__main__":
    main()
