"""Self-consistency as a script: measure (or generate data for) several benchmarks, then judge the gates.

    python experiments/consistency.py --config experiments/configs/consistency_baseline.yaml [--out DIR] [--smoke-test]
    ray job submit --working-dir . -- python experiments/consistency.py --config experiments/configs/consistency_baseline.yaml

The config holds what every run shares (student, n, temperature, ...) and ``runs``: one entry per
benchmark, each a partial stage config (usually its ``dataset``) written to ``out/<name>``.
``stage: consistency`` measures and pools the runs' prompts for the decision gates;
``stage: sc-generate`` writes training data (``out/<name>/sc.jsonl``). Re-running resumes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from arcray.consistency import evaluate_gates, format_gates, scoreboard
from arcray.errors import ConfigError
from arcray.experiment import REQUIRED, Finished, load_yaml_config, run_script
from arcray.runtime.rundir import RunDir
from arcray.consistency.records import SAMPLES, samples_from_json
from arcray.pipelines.sampling import ConsistencyConfig, GenerateConfig, run_consistency, run_sc_generate

STAGES = {"consistency": (ConsistencyConfig, run_consistency), "sc-generate": (GenerateConfig, run_sc_generate)}
SMOKE = {"limit": 2, "n": 2, "max_new_tokens": 16}


def stage_configs(raw: dict[str, Any], *, smoke: bool) -> tuple[str, dict[str, Any]]:
    """(stage, {run name: validated config}) from the experiment config."""
    raw = dict(raw)
    stage = raw.pop("stage", "consistency")
    if stage not in STAGES:
        raise ConfigError(f"stage {stage!r}: choose consistency or sc-generate")
    runs = raw.pop("runs", None)
    out = raw.pop("out", None)
    if not runs or not isinstance(runs, dict) or not out:
        raise ConfigError("an experiment config needs 'out' and 'runs: {name: {dataset: {...}}, ...}'")
    config_class = STAGES[stage][0]
    configs = {}
    for name, run in runs.items():
        fields = {**raw, **(run or {}), "out": str(Path(out) / name)}
        if smoke:
            fields["dataset"] = {**fields.get("dataset", {}), "limit": SMOKE["limit"]}
            fields["max_new_tokens"] = SMOKE["max_new_tokens"]
            fields["n" if stage == "consistency" else "samples_per_prompt"] = SMOKE["n"]
        configs[name] = config_class.build(**fields)
    return stage, configs


def run(args: argparse.Namespace) -> Finished:
    raw = load_yaml_config(args.config)
    if args.out:
        raw["out"] = str(args.out)
    stage, configs = stage_configs(raw, smoke=args.smoke_test)  # every run validated before any work
    summaries = {name: STAGES[stage][1](config) for name, config in configs.items()}
    for name, summary in summaries.items():
        print(f"== {name}: " + json.dumps({k: summary.get(k) for k in ("prompts", "metrics", "records", "by_category", "errors")
                                            if k in summary}))
    result: dict[str, Any] = {"stage": stage, "runs": summaries}
    if stage == "consistency":
        pairs = [(s.category, s.metrics) for c in configs.values()
                 for s in samples_from_json(RunDir(c.out).read_records(SAMPLES), where=str(c.out / SAMPLES))]
        board = scoreboard(pairs)
        gates = evaluate_gates(board, next(iter(configs.values())).gates)
        result.update(scoreboard=board, gates=[g.to_dict() for g in gates])
        print(format_gates(gates))
    RunDir(raw["out"]).write_json("experiment.json", result)
    return Finished(f"experiment directory: {raw['out']}", code=1 if any(s.get("errors") for s in summaries.values()) else 0)


def main(argv: list[str] | None = None) -> int:
    return run_script(argv, name="consistency", doc=__doc__, run=run, config=REQUIRED,
                      out="experiment directory (overrides the config's)",
                      smoke_test="2 prompts per run, 2 short samples: a minute")


if __name__ == "__main__":
    sys.exit(main())
