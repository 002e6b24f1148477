"""Teacher collection as a script: locally, or on a cluster with `ray job submit`.

    python experiments/collect.py --config experiments/configs/collect_gemini.yaml [--out DIR] [--smoke-test]
    ray job submit --working-dir . -- python experiments/collect.py --config experiments/configs/collect_gemini.yaml

Re-running the same command resumes: tasks already in attempts.jsonl are skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from arcray.cli._common import load_yaml_config
from arcray.errors import ArcrayError
from arcray.pipelines.collect import CollectConfig, run_collect

SMOKE = {"limit": 4, "evolution": {"max_generations": 1, "population": 1}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--out", type=Path, help="run directory (overrides the config's)")
    parser.add_argument("--smoke-test", action="store_true", help="4 tasks, one generation: a minute")
    args = parser.parse_args(argv)
    try:
        raw = load_yaml_config(args.config)
        if args.out:
            raw["out"] = str(args.out)
        if args.smoke_test:
            raw = {**raw, "limit": SMOKE["limit"], "evolution": {**raw.get("evolution", {}), **SMOKE["evolution"]}}
        summary = run_collect(CollectConfig.build(**raw))
    except ArcrayError as error:
        print(f"collect: error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2))
    print(f"run directory: {raw['out']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
