"""Teacher collection as a script: locally, or on a cluster with `ray job submit`.

    python experiments/collect.py --config experiments/configs/collect_gemini.yaml [--out DIR] [--smoke-test]
    ray job submit --working-dir . -- python experiments/collect.py --config experiments/configs/collect_gemini.yaml

Re-running the same command resumes: tasks already in attempts.jsonl are skipped.
"""

from __future__ import annotations

import argparse
import sys

from arcray.experiment import REQUIRED, Finished, load_yaml_config, run_script
from arcray.pipelines.collect import CollectConfig, run_collect

SMOKE = {"limit": 4, "evolution": {"max_generations": 1, "population": 1}}


def run(args: argparse.Namespace) -> Finished:
    raw = load_yaml_config(args.config)
    if args.out:
        raw["out"] = str(args.out)
    if args.smoke_test:
        raw = {**raw, "limit": SMOKE["limit"], "evolution": {**raw.get("evolution", {}), **SMOKE["evolution"]}}
    summary = run_collect(CollectConfig.build(**raw))
    return Finished(f"run directory: {raw['out']}", summary=summary)


def main(argv: list[str] | None = None) -> int:
    return run_script(argv, name="collect", doc=__doc__, run=run, config=REQUIRED,
                      smoke_test="4 tasks, one generation: a minute")


if __name__ == "__main__":
    sys.exit(main())
