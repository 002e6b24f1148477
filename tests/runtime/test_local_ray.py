"""The run's own local Ray: what its workers inherit from the environment arcray starts it with."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import os, ray
from arcray.runtime.ray_setup import ensure_ray

@ray.remote(num_cpus=0)
def seen():
    return os.environ.get("RAY_TRAIN_ENABLE_PREEMPTION_WATCHER")

for given in ("1", None):  # a value the user set, then none
    os.environ.pop("RAY_TRAIN_ENABLE_PREEMPTION_WATCHER", None)
    if given is not None:
        os.environ["RAY_TRAIN_ENABLE_PREEMPTION_WATCHER"] = given
    ensure_ray(num_cpus=1)
    print("watcher", given, ray.get(seen.remote()))
    ray.shutdown()
"""


def test_the_preemption_watcher_is_off_on_the_runs_own_instance_unless_the_user_set_it():
    """Nothing drains the one node of a run's own instance; Ray Train's watcher there only logged a Ray core error
    line in every training console. The workers (Train's controller among them) see it off; a user's value stays."""
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_TRAIN_ENABLE_PREEMPTION_WATCHER")}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={**env, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    assert [line for line in done.stdout.splitlines() if line.startswith("watcher")] == ["watcher 1 1", "watcher None 0"]
