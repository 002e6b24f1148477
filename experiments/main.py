"""The main job: both experiments on the embedded default (SmolLM2-135M on CPU, local Ray).

ARC distillation uses Gemini as the teacher when GEMINI_API_KEY is set and the offline
program-search teacher otherwise; self-consistency distillation needs no teacher. Sized to
finish in about 15 minutes on 2 cores; re-running resumes. Ends by printing the reports.

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

from arcray.cli._common import load_experiment_config  # noqa: E402
from arcray.errors import ArcrayError  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/main"))
    args = parser.parse_args(argv)
    started = time.monotonic()
    arc_out, sc_out = args.out / "arc-distillation", args.out / "self-consistency"
    try:  # both experiments' configs, every section, before the first stage of either
        for module, name, out in ((arc_distillation, "main_arc.yaml", arc_out), (self_consistency, "main_sc.yaml", sc_out)):
            module.resolve(load_experiment_config(HERE / "configs" / name, module.KEYS), out)
    except ArcrayError as error:
        print(f"main: error: {error}", file=sys.stderr)
        return 2
    code = arc_distillation.main(["--config", str(HERE / "configs" / "main_arc.yaml"), "--out", str(arc_out)])
    if code:
        return code
    code = self_consistency.main(["--config", str(HERE / "configs" / "main_sc.yaml"), "--out", str(sc_out)])
    if code:
        return code
    minutes = (time.monotonic() - started) / 60
    print(f"\nmain job done in {minutes:.1f} min")
    print(f"ARC distillation report:       {arc_out / 'report.md'}")
    print(f"self-consistency report:       {sc_out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
