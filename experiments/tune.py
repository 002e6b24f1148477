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

from arcray.experiment import Finished, load_yaml_config, run_script
from arcray.tuning.config import TuneSettings
from arcray.tuning.run import run_tune
from arcray.validation import build_config

SMOKE = {"num_samples": 2, "space": {"lora_r": {"choice": [4, 8]}, "lr": {"loguniform": [1e-5, 5e-4]}, "epochs": {"choice": [1]}}}


def run(args: argparse.Namespace) -> Finished:
    raw = load_yaml_config(args.config)
    if args.out:
        raw["out"] = str(args.out)
    if args.smoke_test:
        raw.update(SMOKE)
    summary = run_tune(build_config(TuneSettings, "tune config", **raw))
    return Finished(f"trials: {summary['trials']} ({summary['finished']} finished); report: {summary['report']}")


def main(argv: list[str] | None = None) -> int:
    return run_script(argv, name="tune", doc=__doc__, run=run, config=Path("experiments/configs/tune_smoke.yaml"),
                      smoke_test="two one-epoch trials")


if __name__ == "__main__":
    sys.exit(main())
