"""The main job: both experiments on the embedded default (SmolLM2-135M on CPU, local Ray).

ARC distillation uses Gemini as the teacher when GEMINI_API_KEY is set and the offline
program-search teacher otherwise; self-consistency distillation needs no teacher. Sized to
finish in about 12 minutes on 2 cores (11.6-12.3 measured from a fresh clone, 13.8-14.1 with the installs); re-running resumes. Ends by printing the reports.

    python experiments/main.py [--out runs/main]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import arc_distillation  # noqa: E402
import self_consistency  # noqa: E402

from arcray.experiment import Finished, load_experiment_config, run_script  # noqa: E402


def run(args: argparse.Namespace) -> Finished:
    started = time.monotonic()
    arc_out, sc_out = args.out / "arc-distillation", args.out / "self-consistency"
    experiments = ((arc_distillation, "main_arc.yaml", arc_out), (self_consistency, "main_sc.yaml", sc_out))
    for module, name, out in experiments:  # both experiments' configs, every section, before the first stage of either
        module.resolve(load_experiment_config(HERE / "configs" / name, module.KEYS), out)
    for module, name, out in experiments:
        code = module.main(["--config", str(HERE / "configs" / name), "--out", str(out)])
        if code:
            return Finished(code=code)  # the experiment has said why
    minutes = (time.monotonic() - started) / 60
    return Finished(f"\nmain job done in {minutes:.1f} min",
                    f"ARC distillation report:       {arc_out / 'report.md'}",
                    f"self-consistency report:       {sc_out / 'report.md'}")


def main(argv: list[str] | None = None) -> int:
    return run_script(argv, name="main", doc=__doc__, run=run, out=None, out_default=Path("runs/main"))


if __name__ == "__main__":
    sys.exit(main())
