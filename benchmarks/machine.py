"""The machine's measured limit that the benchmarks compare against: its fp32 matmul rate.

    python benchmarks/machine.py            # GFLOP/s of a 2048 x 2048 fp32 matmul on this machine's torch threads
"""

from __future__ import annotations

import time


def fp32_matmul_gflops(size: int = 2048, seconds: float = 2.0, threads: int | None = None) -> float:
    """Sustained fp32 GFLOP/s of ``size``-square matmuls (2 n^3 FLOPs each), best of a few ``seconds``-long rounds."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b  # warm-up: thread pool and caches
    best = 0.0
    for _ in range(3):
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / 3:
            a @ b
            count += 1
        best = max(best, 2 * size**3 * count / (time.perf_counter() - start) / 1e9)
    return round(best, 1)


if __name__ == "__main__":
    import torch

    print(f"fp32 matmul: {fp32_matmul_gflops()} GFLOP/s on {torch.get_num_threads()} torch threads")
