"""What the Kaggle notebook runs: a bundle's student answers a challenges file, in this process, without Ray.

The evaluation is `arcray evaluate` itself (:func:`arcray.pipelines.evaluate.run_evaluate`) with the bundle's
settings and ``on_ray: false``: the same prompts, seeds, sampling, selection of two attempts and submission
builder, so the file scores what `arcray evaluate` scored on the same tasks.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from arcray.arc.sandbox import SandboxUnavailable
from arcray.errors import ArcrayError
from arcray.kaggle.bundle import BUNDLE_FILE, FORMAT

SUBMISSION = "submission.json"


def predict(*, bundle: str | Path, challenges: str | Path, out: str | Path, budget_s: float | None = None,
            allow_unconfined: bool = False, limit: int | None = None) -> dict[str, Any]:
    """Answer ``challenges`` (its first ``limit`` tasks) into ``out``/submission.json; the run's figures."""
    from arcray.pipelines.evaluate import EvaluateConfig, run_evaluate

    bundle, challenges, out = Path(bundle), Path(challenges), Path(out)
    record_path = bundle / BUNDLE_FILE
    if not record_path.is_file():
        raise ArcrayError(f"{bundle} holds no {BUNDLE_FILE}: point BUNDLE at the dataset `arcray kaggle bundle` wrote")
    record = json.loads(record_path.read_text())
    if record.get("format") != FORMAT:
        raise ArcrayError(f"{record_path} is bundle format {record.get('format')}; this arcray reads {FORMAT}: bundle again")
    if not challenges.is_file():
        raise ArcrayError(f"no challenges file at {challenges}: attach the competition's data to the notebook")
    settings = record["evaluate"]
    student = {**settings["student"], "model": str(bundle / settings["student"]["model"])}
    if student.get("adapter"):
        student["adapter"] = str(bundle / student["adapter"])
    render = dict(settings["render"])
    if render.get("exemplar_pool"):
        render["exemplar_pool"] = str(bundle / render["exemplar_pool"])
    sandbox = {**settings.get("sandbox", {}), "allow_unconfined": bool(allow_unconfined)}
    if allow_unconfined:
        print("arcray: ALLOW_UNCONFINED is on: where the sandbox cannot confine them, the student's programs run as "
              "resource-limited processes WITHOUT the operating-system boundary", file=sys.stderr, flush=True)
    run = out / "arcray-evaluate"
    config = EvaluateConfig.build(student=student, tasks=f"kaggle:{challenges}", limit=limit, render=render, evolution=settings["evolution"],
                                  sandbox=sandbox, tasks_per_actor=settings.get("tasks_per_actor", 1), cache={"enabled": False},
                                  on_ray=False, budget_s=budget_s, out=str(run), tracking={"backend": "none"})
    try:
        summary = run_evaluate(config, progress=True)
    except SandboxUnavailable as error:
        raise SandboxUnavailable(f"{error}. In the Kaggle notebook: set ALLOW_UNCONFINED = True in its parameters cell "
                                 "(read the cell above it first), or run it where user namespaces are allowed") from None
    target = out / SUBMISSION
    shutil.copyfile(run / SUBMISSION, target.with_suffix(".json.tmp"))
    target.with_suffix(".json.tmp").replace(target)
    result = {"submission": str(target), "tasks": summary["requested"], "attempted": summary["attempted"],
              "solved_pass2": summary["solved_pass2"] if summary.get("submission_score") is not None else None,
              "score": summary.get("submission_score")}
    print(f"arcray: {result['attempted']} of {result['tasks']} tasks answered, written to {target}"
          + (f"; score {result['score']:.4f} against the solutions beside the challenges" if result["score"] is not None else ""),
          flush=True)
    return result
