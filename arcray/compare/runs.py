"""What one run folder holds, as `arcray compare` reads it: stage, config, summary, manifest.

A run made since manifests exist is read through its ``manifest.json`` (``arcray.runtime.manifest``).
A run made before is still compared: its stage is told by the files only that stage writes, its
config by ``config.json`` (a prepared dataset keeps it in ``stats.json``, an experiment in
``experiment_config.json``), and its provenance is said to be unknown. Nothing here writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arcray.errors import ArcrayError
from arcray.runtime.manifest import MANIFEST, Manifest, load_manifest
from arcray.text import printable

WHAT_TO_PASS = "pass the --out of an arcray stage (evaluate, consistency, train, …) or an experiment's run folder"
NESTING = 3  # how deep an experiment's stage folders may sit (self-consistency: before/math)
NOT_STAGES = {"mlartifacts", "mlruns", "checkpoints", "__pycache__"}  # tracking stores and the like: never runs


@dataclass
class Run:
    """One run folder: its stage, config and summary, and its manifest when it has one."""

    path: Path
    stage: str
    config: dict[str, Any]
    summary: dict[str, Any]
    manifest: Manifest | None = None
    roots: list[str] = field(default_factory=list)  # how its config spells its own folder (and its experiment's)
    written_config: dict[str, Any] | None = None  # the config file the stage wrote beside it (None: none)

    @property
    def status(self) -> str:
        return self.manifest.status if self.manifest else "no manifest"

    @property
    def started_at(self) -> str | None:
        return self.manifest.started_at if self.manifest else None

    @property
    def wall_s(self) -> float | None:
        if self.manifest and self.manifest.wall_s is not None:
            return self.manifest.wall_s
        wall = self.summary.get("wall_s")
        return float(wall) if isinstance(wall, (int, float)) and not isinstance(wall, bool) else None


def open_run(location: str, *, parent: Run | None = None) -> Run:
    """The run at ``location``; one line when it is missing or no run."""
    shown = printable(location, limit=300, one_line=True)
    if "://" in location:
        raise ArcrayError(f"{shown} is a storage URI; `arcray compare` reads local folders: copy the run here first")
    path = Path(location).expanduser()
    if not path.exists():
        raise ArcrayError(f"{shown} does not exist: {WHAT_TO_PASS}")
    if not path.is_dir():
        raise ArcrayError(f"{shown} is a file, not a run folder: {WHAT_TO_PASS}")
    manifest = load_manifest(path)
    if manifest is not None:
        run = Run(path, manifest.stage, dict(manifest.config), _json(path / "summary.json"), manifest)
        legacy = _run_without_manifest(path)
        run.written_config = legacy.config if legacy is not None and legacy.stage == run.stage else None
    else:
        run = _run_without_manifest(path)
        if run is None:
            try:
                inside = list(stage_folders(path))
            except OSError:  # an unreadable folder below: no hint, the same refusal
                inside = []
            hint = f" (it holds runs: {', '.join(inside[:6])}; pass one of them)" if inside else ""
            raise ArcrayError(f"{shown} is not an arcray run: it has no {MANIFEST} and no config.json{hint}; {WHAT_TO_PASS}")
        run.written_config = run.config
    run.roots = _roots(location, run, parent)
    return run


def _run_without_manifest(path: Path) -> Run | None:
    """A run made before manifests: its stage by the files only that stage writes; None when no run."""
    summary = _json(path / "summary.json")
    config = _json(path / "config.json")
    if (path / "experiment_config.json").is_file():
        return Run(path, "experiment", _json(path / "experiment_config.json"), summary)
    if (path / "stats.json").is_file() and (path / "dataset").is_dir():
        stats = _json(path / "stats.json")
        return Run(path, "prepare", stats.get("config") or {}, stats)
    if not (path / "config.json").is_file():
        return None
    files = {p.name for p in path.iterdir()}
    if "attempts.jsonl" in files:
        stage = "evaluate" if "submission.json" in files or "figures" in summary else "collect"
    elif "sc.jsonl" in files:
        stage = "generate"
    elif "samples.jsonl" in files:
        stage = "measure"
    elif "adapter" in files or "history.json" in files or "lora_r" in config:
        stage = "train"
    elif "optuna.db" in files or "space" in config:
        stage = "tune"
    else:
        return None
    return Run(path, stage, config, summary)


def stage_folders(root: Path) -> dict[str, Path]:
    """An experiment's stage runs by their folder relative to it (``eval-base``, ``before/math``)."""
    found: dict[str, Path] = {}

    def walk(folder: Path, depth: int) -> None:
        for child in sorted(p for p in folder.iterdir()
                           if p.is_dir() and p.name not in NOT_STAGES and not p.name.startswith(".")):
            if _is_run(child):
                found[child.relative_to(root).as_posix()] = child
            elif depth < NESTING:
                walk(child, depth + 1)

    walk(root, 1)
    return found


def _is_run(folder: Path) -> bool:
    if (folder / MANIFEST).is_file():
        return True
    try:
        return _run_without_manifest(folder) is not None
    except ArcrayError:  # a run whose summary is damaged: opening it says so in one line
        return True


def _roots(location: str, run: Run, parent: Run | None) -> list[str]:
    """Every spelling of the run's folder its config may hold, longest first, so that two runs
    whose only difference is where they live compare equal (``out: RUN/train``)."""
    spellings = {location.rstrip("/"), str(run.path.resolve())}
    for config in (run.config, run.written_config or {}):
        out = config.get("out")
        if isinstance(out, str) and out:
            spellings.add(out.rstrip("/"))
    if parent is not None:
        spellings.update(parent.roots)
    return sorted((s for s in spellings if s and s not in (".", "/")), key=len, reverse=True)


def _json(path: Path) -> dict[str, Any]:
    """A run's JSON file as a dict ({} when absent); one line when it does not parse."""
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise ArcrayError(f"{path} is not JSON ({printable(error, limit=120, one_line=True)}); it was cut short or "
                          "edited: restore it, or re-run the stage that wrote it") from None
    return value if isinstance(value, dict) else {}
