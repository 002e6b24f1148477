"""Reports people read: Markdown pages with tables, and PNG plots beside them (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A GitHub-style table; floats to 4 significant digits, missing cells as '—'."""
    if not rows:
        return "_(none)_"
    columns = list(columns or rows[0].keys())

    def cell(value: Any) -> str:
        if value is None:
            return "—"
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def line_plot(path: Path, series: Mapping[str, tuple[Sequence[float], Sequence[float]]], *, title: str,
              xlabel: str, ylabel: str) -> Path | None:
    """One line per series; returns the PNG path, or None when there is nothing to draw."""
    series = {name: xy for name, xy in series.items() if len(xy[0])}
    if not series:
        return None
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 3.6), dpi=110)
    for name, (xs, ys) in series.items():
        axes.plot(xs, ys, marker="o" if len(xs) < 30 else None, label=name)
    axes.set(title=title, xlabel=xlabel, ylabel=ylabel)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def bar_plot(path: Path, categories: Sequence[str], groups: Mapping[str, Sequence[float]], *, title: str,
             ylabel: str, reference: Mapping[str, float] | None = None) -> Path:
    """Grouped bars (e.g. before/after per metric); optional dashed reference lines (gates)."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 3.6), dpi=110)
    width = 0.8 / max(len(groups), 1)
    for g, (name, values) in enumerate(groups.items()):
        xs = [i + (g - (len(groups) - 1) / 2) * width for i in range(len(categories))]
        bars = axes.bar(xs, values, width=width, label=name)
        axes.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize=7)
    for i, category in enumerate(categories):
        if reference and category in reference:
            axes.hlines(reference[category], i - 0.45, i + 0.45, colors="black", linestyles="dashed", linewidth=1)
    axes.set_xticks(range(len(categories)), categories)
    axes.set(title=title, ylabel=ylabel)
    axes.grid(axis="y", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def write_report(folder: Path, title: str, sections: Iterable[str], name: str = "report.md") -> Path:
    """Write ``folder/name``; images are referenced relative to it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"# {title}\n\n" + "\n\n".join(s.strip() for s in sections if s and s.strip()) + "\n")
    return path


def image(path: Path | None, folder: Path, caption: str) -> str:
    return f"![{caption}]({path.relative_to(folder)})" if path else ""


def training_section(out: Path, trained: Mapping[str, Any], title: str, plot: str = "training_loss.png") -> str:
    """A training run's table and its loss curves (from ``history.json`` in ``trained['out']``), under ``## title``."""
    import json

    history = json.loads((Path(trained["out"]) / "history.json").read_text())
    steps = history.get("steps", [])
    epochs = [e for e in history.get("epochs", []) if e.get("eval_loss") is not None]
    curves = line_plot(out / plot, {
        "train loss": ([s["step"] for s in steps], [s["loss"] for s in steps]),
        "eval loss": ([e["step"] for e in epochs], [e["eval_loss"] for e in epochs]),
    }, title=title, xlabel="optimiser step", ylabel="loss")
    table = markdown_table([{"steps": trained["steps"], "best eval loss": trained["best"]["eval_loss"],
                             "final train loss": trained["final"].get("train_loss"), "wall s": trained.get("wall_s")}])
    return f"## {title}\n" + table + "\n\n" + image(curves, out, "training curves")
