"""ASHA against no early stopping: the same search budget on the tiny setup, side by side.

Both searches run the same number of trials with the same sampler seed over the same space
(epochs up to 4, so there is something to stop early); prints each one's wall time and best
eval loss, the time ratio, and whether ASHA's best is within the stated tolerance.

    python benchmarks/tune.py [--trials 8] [--tolerance 0.05]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.llm.tiny_models import build_tiny_llama  # noqa: E402
from tests.training.conftest import chat_records  # noqa: E402

from arcray.training.prepare import PrepareConfig, run_prepare  # noqa: E402
from arcray.tuning.config import TuneSettings  # noqa: E402
from arcray.tuning.run import run_tune  # noqa: E402
from arcray.validation import build_config  # noqa: E402

SPACE = {"lora_r": {"choice": [2, 4, 8]}, "lr": {"loguniform": [1e-4, 2e-2]}, "epochs": {"choice": [1, 2, 3, 4]}}
TRAIN = {"batch_size": 4, "grad_accum": 1, "load_in_4bit": False, "max_length": 128, "merge": False}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--concurrent", type=int, default=2)
    parser.add_argument("--tolerance", type=float, default=0.05, help="relative eval-loss gap ASHA may leave")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-tune-"))
    base = build_tiny_llama(root / "base", hidden_size=64)
    (root / "sc.jsonl").write_text("".join(json.dumps(r) + "\n" for r in chat_records(32)))
    run_prepare(PrepareConfig(sources=[root / "sc.jsonl"], out=root / "data", val_fraction=0.25))
    results = {}
    import ray

    ray.init(num_cpus=2, logging_level="ERROR")
    for name, asha in (("no early stopping", False), ("ASHA", "auto")):
        settings = build_config(TuneSettings, "bench", data=root / "data", model=str(base), train=TRAIN, space=SPACE,
                                num_samples=args.trials, max_concurrent=args.concurrent, seed=0,
                                asha={"enabled": asha, "grace_period": 1, "reduction_factor": 2}, tracking={"backend": "none"},
                                out=root / name.replace(" ", "-"))
        start = time.perf_counter()
        summary = run_tune(settings)
        results[name] = (time.perf_counter() - start, summary["best"]["eval_loss"], summary)
    ray.shutdown()
    for name, (wall, best, summary) in results.items():
        stopped = sum(r["status"] == "stopped early" for r in summary["rows"])
        print(f"{name:18s} wall {wall:7.1f} s  best eval_loss {best:.4f}  ({summary['trials']} trials, {stopped} stopped early)")
    (wall_a, best_a, _), (wall_b, best_b, _) = results["no early stopping"], results["ASHA"]
    gap = (best_b - best_a) / abs(best_a)
    print(f"ratio: ASHA takes {wall_b / wall_a:.2f}x the time; best eval_loss gap {gap:+.2%} "
          f"({'within' if gap <= args.tolerance else 'outside'} the {args.tolerance:.0%} tolerance)")


if __name__ == "__main__":
    main()
