"""The search's report: every trial, the best configuration (or the Pareto set), and plots."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from arcray.report import image, markdown_table, write_report
from arcray.tuning.config import METRICS, TuneSettings


def _row(result, settings: TuneSettings) -> dict[str, Any]:
    metrics = result.metrics or {}
    config = result.config or {}
    row = {"trial": metrics.get("trial_id") or Path(str(result.path)).name,
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
    rows = sorted((_row(result, settings) for result in grid), key=lambda r: r["trial"])
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


def _scatter(path: Path, xs, ys, *, title: str, xlabel: str, ylabel: str, log_x: bool = False, highlight=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(5.2, 3.4), dpi=110)
    axes.scatter(xs, ys, alpha=0.8)
    if highlight:
        hx, hy = highlight
        axes.scatter(hx, hy, color="red", label="Pareto front" if len(hx) > 1 else "best")
        axes.legend()
    if log_x:
        from matplotlib.ticker import NullFormatter

        axes.set_xscale("log")
        axes.xaxis.set_minor_formatter(NullFormatter())  # a narrow decade's minor labels overlap
    axes.set(title=title, xlabel=xlabel, ylabel=ylabel)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def write_tune_report(settings: TuneSettings, summary: dict[str, Any]) -> Path:
    out = settings.out
    plots = out / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    rows = [r for r in summary["rows"]]
    sections = []
    columns = ["trial", "status", *settings.space, *[o.metric for o in settings.objectives], "time_s"]
    sections.append("## Trials\n" + markdown_table(rows, columns))
    if summary["best"]:
        sections.append("## Best configuration\n" + markdown_table([summary["best"]], columns)
                        + (f"\n\nIts adapter is kept in `{summary['best_adapter']}`." if summary["best_adapter"] else ""))
    if summary["pareto"] is not None:
        sections.append("## Pareto set\n" + markdown_table(summary["pareto"], columns))
    images = []
    for o in settings.objectives:
        measured = [r for r in rows if r.get(o.metric) is not None]
        if not measured:
            continue
        for name in settings.space:
            values = [r for r in measured if isinstance(r.get(name), (int, float))]
            if values:
                path = _scatter(plots / f"{o.metric}_vs_{name}.png", [r[name] for r in values], [r[o.metric] for r in values],
                                title=f"{o.metric} against {name}", xlabel=name, ylabel=o.metric, log_x=name == "lr")
                images.append(image(path, out, f"{o.metric} vs {name}"))
        order = list(range(1, len(measured) + 1))
        running, best = [], None
        for r in measured:
            value = r[o.metric]
            best = value if best is None else (max(best, value) if o.mode == "max" else min(best, value))
            running.append(best)
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        figure, axes = plt.subplots(figsize=(5.2, 3.4), dpi=110)
        axes.scatter(order, [r[o.metric] for r in measured], label="trial")
        axes.step(order, running, where="post", color="red", label="best so far")
        axes.set(title=f"optimisation history: {o.metric}", xlabel="trial", ylabel=o.metric)
        axes.legend()
        axes.grid(alpha=0.3)
        figure.tight_layout()
        history = plots / f"history_{o.metric}.png"
        figure.savefig(history)
        plt.close(figure)
        images.append(image(history, out, f"history of {o.metric}"))
    if settings.multi_objective and len(settings.objectives) >= 2 and summary["pareto"]:
        a, b = settings.objectives[:2]
        measured = [r for r in rows if r.get(a.metric) is not None and r.get(b.metric) is not None]
        path = _scatter(plots / "pareto.png", [r[a.metric] for r in measured], [r[b.metric] for r in measured],
                        title="Pareto front", xlabel=a.metric, ylabel=b.metric,
                        highlight=([r[a.metric] for r in summary["pareto"]], [r[b.metric] for r in summary["pareto"]]))
        images.append(image(path, out, "Pareto front"))
    sections.append("## Plots\n" + "\n\n".join(images))
    sections.append(f"The Optuna study is in `{summary['optuna_storage']}`: `optuna-dashboard {summary['optuna_storage']}` opens it. "
                    f"Ray Tune's results are in `{settings.storage()}`.")
    return write_report(out, "Hyper-parameter search", sections)
