"""The search's report: every trial in the order it started, the best configuration (or the Pareto
set), and Optuna's own plots of the study."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from arcray.report import image, markdown_table, write_report
from arcray.tuning.config import METRICS, TuneSettings
from arcray.tuning.study import TUNE_TRIAL, load_study, study_name


def _tune_id(result) -> str:
    """The Tune trial id (``6a112a27``; ``a1b2c_00003`` without a searcher), from the result or, for a trial
    that never reported, its folder's name (``train_trial_6a112a27_1_epochs=1,…``)."""
    metrics = result.metrics or {}
    if metrics.get("trial_id"):
        return str(metrics["trial_id"])
    name = Path(str(result.path)).name
    found = re.search(r"_([0-9a-f]{8}|[0-9a-f]{5}_\d{5})_\d+(?:_|$)", name)
    return found.group(1) if found else name


def _row(result, settings: TuneSettings, numbers: dict[str, int]) -> dict[str, Any]:
    metrics = result.metrics or {}
    config = result.config or {}
    trial = _tune_id(result)
    row = {"number": numbers.get(trial), "trial": trial,
           "status": "error" if result.error else ("done" if metrics.get("evaluated") else "stopped early")}
    row.update({name: config.get(name) for name in settings.space})
    for key in (*METRICS, "training_iteration", "trial_wall_s", "adapter"):
        if key in metrics:
            row[key] = metrics[key]
    row["time_s"] = round(metrics.get("time_total_s") or 0.0, 1)
    return row


def pareto(rows: list[dict[str, Any]], objectives) -> list[dict[str, Any]]:
    """Non-dominated rows among those with every objective measured."""
    scored = [r for r in rows if all(r.get(o.metric) is not None for o in objectives)]

    def better_or_equal(a, b, o):
        return a[o.metric] >= b[o.metric] if o.mode == "max" else a[o.metric] <= b[o.metric]

    def dominates(a, b):
        return all(better_or_equal(a, b, o) for o in objectives) and any(
            (a[o.metric] > b[o.metric]) if o.mode == "max" else (a[o.metric] < b[o.metric]) for o in objectives)

    return [r for r in scored if not any(dominates(other, r) for other in scored if other is not r)]


def summarize_trials(settings: TuneSettings, grid) -> dict[str, Any]:
    study = load_study(settings)
    # Optuna numbers trials in the order they started (Tune's ids are not an order): rows follow it.
    numbers = {t.user_attrs[TUNE_TRIAL]: t.number for t in study.get_trials(deepcopy=False) if TUNE_TRIAL in t.user_attrs} \
        if study is not None else {}
    rows = sorted((_row(result, settings, numbers) for result in grid),
                  key=lambda r: (r["number"] is None, r["number"] if r["number"] is not None else 0, r["trial"]))
    objectives = settings.objectives
    front = pareto(rows, objectives)
    best = None
    finished = [r for r in front if r["status"] == "done"] or front  # prefer a trial that ran to the end
    if not settings.multi_objective and finished:
        o = objectives[0]
        best = (max if o.mode == "max" else min)(finished, key=lambda r: r[o.metric])
    kept = None
    if best and best.get("adapter") and Path(best["adapter"]).is_dir():
        kept = settings.out / "best_adapter"
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(best["adapter"], kept)
    return {
        "trials": len(rows),
        "finished": sum(r["status"] == "done" for r in rows),
        "errored": sum(r["status"] == "error" for r in rows),
        "objectives": [o.model_dump() for o in objectives],
        "best": best,
        "pareto": front if settings.multi_objective else None,
        "best_adapter": str(kept) if kept else None,
        "rows": rows,
        "optuna_storage": settings.optuna_url(),
    }


def study_plots(settings: TuneSettings, folder: Path) -> list[tuple[Path, str]]:
    """Optuna's own plots of the study (optuna.visualization.matplotlib) as PNGs: each objective's
    optimisation history and parameter importances, the epochs' curves, the parallel coordinates
    (one objective) or the Pareto front (several). A plot the study cannot make yet is left out."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.trial import TrialState
    from optuna.visualization import matplotlib as optuna_plots

    study = load_study(settings)
    if study is None:
        return []
    names = [o.metric for o in settings.objectives]
    multi = len(names) > 1
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    folder.mkdir(parents=True, exist_ok=True)
    made: list[tuple[Path, str]] = []

    def save(file: str, caption: str, draw) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Optuna marks its matplotlib backend experimental
                axes = draw()
        except (ValueError, RuntimeError, ImportError, ZeroDivisionError) as problem:  # too few trials, one value
            print(f"arcray tune: no {caption} plot ({type(problem).__name__}: {str(problem)[:120]})", flush=True)
            return
        figure = (axes.flat[0] if hasattr(axes, "flat") else axes).figure
        figure.tight_layout()
        figure.savefig(folder / file, dpi=110)
        plt.close(figure)
        made.append((folder / file, caption))

    for index, name in enumerate(names):
        target = (lambda t, i=index: t.values[i]) if multi else None
        if complete:
            save(f"history_{name}.png", f"optimisation history of {name}",
                 lambda: optuna_plots.plot_optimization_history(study, target=target, target_name=name))
        if len(complete) >= 2:
            save(f"importances_{name}.png", f"parameter importances for {name}",
                 lambda: optuna_plots.plot_param_importances(study, target=target, target_name=name))
    if not multi and any(t.intermediate_values for t in study.get_trials(deepcopy=False)):
        save("intermediate_values.png", f"{names[0]} per epoch", lambda: optuna_plots.plot_intermediate_values(study))
    if not multi and complete:
        save("parallel_coordinate.png", "parallel coordinates",
             lambda: optuna_plots.plot_parallel_coordinate(study, target_name=names[0]))
    if multi and len(names) <= 3 and complete:
        save("pareto_front.png", "Pareto front", lambda: optuna_plots.plot_pareto_front(study, target_names=names))
    return made


def write_tune_report(settings: TuneSettings, summary: dict[str, Any]) -> Path:
    out = settings.out
    rows = summary["rows"]
    sections = []
    columns = ["number", "trial", "status", *settings.space, *[o.metric for o in settings.objectives], "time_s"]
    sections.append("## Trials\nIn the order they started (`number` is the Optuna trial's).\n\n" + markdown_table(rows, columns))
    if summary["best"]:
        sections.append("## Best configuration\n" + markdown_table([summary["best"]], columns)
                        + (f"\n\nIts adapter is kept in `{summary['best_adapter']}`." if summary["best_adapter"] else ""))
    if summary["pareto"] is not None:
        sections.append("## Pareto set\n" + markdown_table(summary["pareto"], columns))
    images = [image(path, out, caption) for path, caption in study_plots(settings, out / "plots")]
    sections.append("## Plots\nDrawn by `optuna.visualization` from the study.\n\n" + "\n\n".join(images))
    sections.append(f"The Optuna study `{study_name(settings)}` is in `{summary['optuna_storage']}`: "
                    f"`optuna-dashboard {summary['optuna_storage']}` opens it (live, while a search runs). "
                    f"Ray Tune's results are in `{settings.storage()}`.")
    return write_report(out, "Hyper-parameter search", sections)
