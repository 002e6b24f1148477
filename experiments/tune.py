"""The hyper-parameter search as a script: locally, or on a cluster with `ray job submit`.

    python experiments/tune.py --config experiments/configs/tune_smoke.yaml [--smoke-test]
    ray job submit --working-dir . -- python experiments/tune.py --config experiments/configs/tune_arc.yaml

When the config's data folder does not exist yet and the config has a ``build_data`` section, it
is built first (tune_smoke.yaml: the offline search teacher on 60 ARC-AGI-1 training tasks, then
prepare). Re-running restores the search.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from arcray.cli._common import load_yaml_config
from arcray.errors import ArcrayError
from arcray.tuning.config import TuneSettings
from arcray.tuning.search import run_tune
from arcray.validation import build_config

SMOKE = {"num_samples": 2, "space": {"lora_r": {"choice": [4, 8]}, "lr": {"loguniform": [1e-5, 5e-4]}, "epochs": {"choice": [1]}}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("experiments/configs/tune_smoke.yaml"))
    parser.add_argument("--out", help="run directory (overrides the config's)")
    parser.add_argument("--smoke-test", action="store_true", help="two one-epoch trials")
    args = parser.parse_args(argv)
    try:
        raw = load_yaml_config(args.config)
        if args.out:
            raw["out"] = args.out
        if args.smoke_test:
            raw.update(SMOKE)
        summary = run_tune(build_config(TuneSettings, "tune config", **raw))
    except ArcrayError as error:
        print(f"tune: error: {error}", file=sys.stderr)
        return 2
    print(f"trials: {summary['trials']} ({summary['finished']} finished); report: {summary['report']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
