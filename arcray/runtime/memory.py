"""The memory each Ray actor and Train worker declares, so that Ray places no more of them on a node than it holds.

Ray schedules ``memory`` as a logical resource: nothing enforces it, but a node whose declared total would pass
its own ``memory`` resource takes no more. Without a declaration (Ray's default, 0) a cluster packs model actors
onto one node until the node runs out of memory. The defaults below are the peaks measured on this project's
reference machine (the VmHWM of each Ray worker process through one main job: ``scripts/ray_peaks.py``), rounded
up; a larger model needs more, and every config that starts actors takes ``memory_gib_per_actor`` (Train:
``memory_gib_per_worker``) to say so.
"""

from __future__ import annotations

GIB = 1024**3

# Measured peaks (GiB of VmHWM), the main job at ba597cf, SmolLM2-135M-Instruct in bfloat16 on CPU:
#   ArcCollector, search teacher: 0.22
#   ArcStudentEvaluator, hf SmolLM2, 16 tasks x 8 programs in flight: 4.7 (5.4 with 48 prompts in a batch)
#   self-consistency sampler, hf SmolLM2, 26 prompts x 8 samples: 1.8 (main_sc.yaml declares 2.5)
#   RayTrainWorker, LoRA on SmolLM2's last 10 layers, batch 1, 768 tokens: 3.9
ACTOR_GIB = {
    "search": 0.5,  # the search teacher and its sandbox worker
    "gemini": 0.5,  # an API client and its sandbox worker
    "openai": 0.5,
    "hf": 6.0,  # a local model in torch, its batch's key/value cache included
    "vllm": 8.0,  # vLLM's CPU engine keeps a 4 GiB key/value cache of its own (VLLM_CPU_KVCACHE_SPACE)
}
TRAIN_WORKER_GIB = 4.5


def actor_memory(backend: str, declared_gib: float | None) -> int:
    """Bytes an actor of ``backend`` asks Ray for: what the config declares, else the measured default."""
    gib = declared_gib if declared_gib is not None else ACTOR_GIB.get(backend, 1.0)
    return int(gib * GIB)


def train_worker_memory(declared_gib: float | None) -> int:
    return int((declared_gib if declared_gib is not None else TRAIN_WORKER_GIB) * GIB)


def check_fits(requested: int, what: str, setting: str) -> None:
    """One line when no live node's ``memory`` resource holds ``requested`` bytes, where Ray would wait for one for ever.

    An error on arcray's own local Ray, whose size is known; a warning on a cluster joined through RAY_ADDRESS,
    whose autoscaler (`ray up`) may yet add a larger node."""
    import os
    import sys

    import ray

    from arcray.errors import ArcrayError

    largest = max((n["Resources"].get("memory", 0) for n in ray.nodes() if n.get("Alive")), default=0)
    if requested <= largest:
        return
    line = (f"each {what} asks Ray for {requested / GIB:.1f} GiB of memory and the largest node offers "
            f"{largest / GIB:.1f} GiB: set {setting} lower, or add larger nodes")
    if os.environ.get("RAY_ADDRESS"):
        print(f"arcray: {line} (waiting for the cluster to add one)", file=sys.stderr, flush=True)
        return
    raise ArcrayError(line)
