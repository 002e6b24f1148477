"""A comparison for people: rich tables on a terminal (plain text elsewhere), and one plot.

Differences are marked with ``≠`` as well as colour, so they show in a log or a pipe too.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from arcray.text import printable

SHOWN_CHARS = 60  # a config value longer than this (an exemplar pool, say) is cut in the table; --json has it whole
MAX_PANELS = 24


def print_text(comparison: dict[str, Any], *, console=None) -> None:
    from rich.console import Console

    console = console or Console(highlight=False, soft_wrap=False,
                                 width=None if Console().is_terminal else 160)
    labels = comparison["labels"]
    _section(console, comparison, labels, title=None)
    for stage in comparison["stages"]:
        _section(console, stage, labels, title=f"{stage['name']} ({stage['stage']})")
    for name, holders in comparison["unmatched"].items():
        console.print(f"{name}: only in {', '.join(holders)} (not compared)", markup=False)


def _section(console, data: dict[str, Any], labels: list[str], *, title: str | None) -> None:
    from rich.rule import Rule

    if title is not None:
        console.print(Rule(printable(title, one_line=True), style="bold"))
    console.print(_table("Runs", ["", "stage", "status", "location", "started", "wall"],
                         [[r["label"], r["stage"], r["status"], r["location"], r["started_at"] or "—",
                           _seconds(r["wall_s"])] for r in data["runs"]]))
    config = data["config"]
    differ = config["differ"]
    verb = "field differs" if len(differ) == 1 else "fields differ"
    console.print(f"Config: {len(differ)} {verb}, {config['identical']} identical", markup=False)
    if differ:
        operational = set(config.get("operational") or ())
        console.print(_table(None, ["field", *labels, ""], [[key, *map(_value, values), "operational" if key in operational
                                                              else ""] for key, values in differ.items()]))
    _provenance(console, data["provenance"], labels)
    metrics = data["metrics"]
    if metrics:
        console.print(_table("Metrics (95% interval)", ["metric", *labels],
                             [[name, *map(_figure, values)] for name, values in metrics.items()]))
    elif data["stage"] != "experiment":  # an experiment's metrics are its stages', below
        console.print("Metrics: none recorded", markup=False)
    paired = data["paired"]
    if paired:
        rows = [[name, f"{row['run']} − {row['against']}", _figure(row) if row["value"] is not None else "—",
                 f"{row['shared']} {row['unit']}"] for name, rows_ in paired.items() for row in rows_]
        console.print(_table("Paired differences (same tasks or prompts; 95% interval)",
                             ["metric", "difference", "value", "shared"], rows))
    console.print()


def _provenance(console, provenance: dict[str, Any], labels: list[str]) -> None:
    fields, differ = provenance["fields"], set(provenance["differ"])
    if not any(provenance["manifest"]):
        console.print(f"Provenance: no manifest ({', '.join(labels)})", markup=False)
        return
    missing = [label for label, has in zip(labels, provenance["manifest"]) if not has]
    note = f"; no manifest: {', '.join(missing)}" if missing else ""
    if not fields:
        console.print(f"Provenance: {provenance['identical']} fields identical{note}", markup=False)
        return
    rows = []
    for key, values in fields.items():
        shown = [_value(v) if has else "no manifest" for v, has in zip(values, provenance["manifest"])]
        rows.append(([key, *shown, "≠" if key in differ else ""], "bold yellow" if key in differ else None))
    console.print(f"Provenance: {len(differ)} differ, {provenance['identical']} identical{note}", markup=False)
    console.print(_table(None, ["field", *labels, ""], [r for r, _ in rows], styles=[s for _, s in rows]))


def _table(title: str | None, columns: list[str], rows: list[list[Any]], styles: list[str | None] | None = None):
    from rich import box
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for index, row in enumerate(rows):
        table.add_row(*(printable(cell, one_line=True) for cell in row), style=(styles or [None] * len(rows))[index])
    return table


def _value(value: Any) -> str:
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _figure(value: dict[str, Any] | None) -> str:
    if value is None or value.get("value") is None:
        return "—"
    if value.get("low") is None:
        return f"{value['value']:.4g}"
    return f"{value['value']:.3f} [{value['low']:.3f}, {value['high']:.3f}]"


def _seconds(wall: float | None) -> str:
    return "—" if wall is None else f"{wall:.0f} s" if wall < 600 else f"{wall / 60:.1f} min"


def _short(location: str) -> str:
    """The last two parts of a run's path: ``runs/rank8/eval-base`` reads ``rank8/eval-base``."""
    return "/".join(Path(location).parts[-2:])


# -- plot --------------------------------------------------------------------------------------
def write_plot(comparison: dict[str, Any], path: Path) -> Path | None:
    """One panel per headline metric (per stage of an experiment): each run's value with its 95%
    interval as an error bar. None when no run recorded a metric."""
    panels = [(name, values) for name, values in comparison["metrics"].items()]
    panels += [(f"{stage['name']}: {name}", values) for stage in comparison["stages"]
               for name, values in stage["metrics"].items()]
    panels = [(name, values) for name, values in panels if any(v is not None for v in values)]
    with_intervals = [(name, values) for name, values in panels if any(v and v.get("low") is not None for v in values)]
    panels = (with_intervals or panels)[:MAX_PANELS]  # the figures with intervals are the headline ones
    if not panels:
        return None
    import matplotlib

    matplotlib.use("Agg")  # files only: no display is needed or wanted
    import matplotlib.pyplot as plt

    labels = comparison["labels"]
    columns = min(4, len(panels))
    rows = math.ceil(len(panels) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.6 * rows), dpi=110, squeeze=False)
    for ax, (name, values) in zip(axes.flat, panels):
        for x, value in enumerate(values):
            if value is None:
                continue
            low, high = value.get("low"), value.get("high")
            error = [[value["value"] - low], [high - value["value"]]] if low is not None and high is not None else None
            ax.errorbar([x], [value["value"]], yerr=error, fmt="o", capsize=4, color=f"C{x % 10}")
        ax.set_xticks(range(len(labels)), labels)
        ax.set_xlim(-0.6, len(labels) - 0.4)
        ax.set_title(printable(name, limit=40, one_line=True), fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    figure.suptitle("   ".join(f"{label}: {_short(run['location'])}" for label, run in zip(labels, comparison["runs"])),
                    fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
