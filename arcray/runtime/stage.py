"""A stage's claim on its run directory: one stage, one config, one live run, outside the source tree.

    with StageRun(config.out, "collect", config=dumped, operational={"concurrency", …}) as stage:
        … work, appending records …
        stage.finish(metrics={…}, outputs=["attempts.jsonl"], exports={…})

On entry it refuses, each in one line naming the difference and the fix:

- a run directory inside arcray's own package folder (``--out a`` typed in the source tree);
- a second live run: an exclusive lock on ``RUN_DIR/.arcray.lock`` (``filelock``, an ``flock``
  the kernel drops when the holder dies, so a crashed or killed run never leaves it stuck);
- a directory made by another stage, or by this stage with different settings: the config minus
  its ``operational`` fields (actors, CPUs, cache, output folder) is the run's *identity*, kept in
  the manifest, and a resumed run must match it field for field.

Then it writes the manifest (``status: running``); :meth:`StageRun.finish` writes it complete
with metrics, output hashes and exports, and logs the run to the tracking store.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Iterable

from arcray.errors import ArcrayError, warn
from arcray.runtime.manifest import (
    MANIFEST, InputRef, Manifest, hash_outputs, load_manifest, now, provenance, write_manifest,
)
from arcray.runtime.rundir import RunDir, redact

LOCK = ".arcray.lock"
# Always operational: where the run is written and how many workers share it, never what it computes.
OPERATIONAL = frozenset({"out", "concurrency", "tasks_per_actor", "num_cpus_per_actor", "num_gpus_per_actor", "memory_gib_per_actor",
                         "memory_gib_per_worker", "cache",
                         "retry_failed", "tracking", "progress", "on_ray", "budget_s"})
# Operational at any depth: how a backend reaches its endpoint and batches its calls (a teacher's retries,
# rate limit, timeouts, in-flight requests), never which model answers or how it samples.
NESTED_OPERATIONAL = frozenset({"retry", "rate_limit", "max_concurrency", "timeout_s", "timeouts", "transport", "prices",
                                "batch_size", "api_key_env", "cache", "workers", "tracking"})


def identity_of(config: dict[str, Any], operational: Iterable[str] = ()) -> dict[str, Any]:
    """The settings that make a run what it is: the config minus what only says how it is computed."""
    skip = OPERATIONAL | set(operational)

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in NESTED_OPERATIONAL}
        return value

    return {k: strip(v) for k, v in config.items() if k not in skip}


def source_tree() -> Path:
    """arcray's own package folder (and arcdsl's beside it): no run directory belongs in there."""
    return Path(__file__).resolve().parents[1]


def refuse_inside_source(path: Path) -> None:
    resolved = Path(os.path.abspath(path.expanduser())).resolve()
    for package in (source_tree(), source_tree().parent / "arcdsl"):
        if resolved == package or package in resolved.parents:
            raise ArcrayError(f"run directory {path} is inside arcray's source folder {package}: pass an --out outside "
                              f"it, e.g. runs/{path.name}")


def refuse_inside_ray_session(path: Path) -> None:
    """A ``ray job submit --working-dir`` job runs in Ray's copy of that folder, under the session folder that Ray
    deletes with the session: a relative --out lands there and its results with it."""
    resolved = Path(os.path.abspath(path.expanduser()))
    if "working_dir_files" in resolved.parts and "runtime_resources" in resolved.parts:
        raise ArcrayError(f"run directory {path} would be {resolved}, inside this Ray job's copy of its working_dir, which "
                          "Ray deletes with the session: pass --out an absolute path on the head, an NFS mount, or a "
                          "storage URI (s3://…, gs://…)")


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted keys for nested mappings (``train.lora_r``); lists stay values."""
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}{key}."))
        return flat
    return {prefix[:-1]: value} if prefix else {}


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """``key: old -> new`` for every dotted field that differs (a field on one side only included)."""
    a, b = flatten(before), flatten(after)
    missing = object()
    said = []
    for key in sorted(a.keys() | b.keys()):
        old, new = a.get(key, missing), b.get(key, missing)
        if old != new:
            said.append(f"{key}: {'(none)' if old is missing else _short(old)} -> {'(none)' if new is missing else _short(new)}")
    return said


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class StageRun:
    """The claim: lock, checks and the running manifest on entry; :meth:`finish` at the end."""

    def __init__(self, out: str | os.PathLike | RunDir, stage: str, *, config: dict[str, Any],
                 operational: Iterable[str] = (), inputs: Iterable[InputRef] = (), seeds: dict[str, int | None] | None = None,
                 tracking: Any = None) -> None:
        self.stage = stage
        self.config = redact(config)
        self.identity = identity_of(self.config, operational)
        self.inputs = list(inputs)
        self.seeds = dict(seeds or {})
        self.tracking = tracking
        if isinstance(out, RunDir):
            self.run = out
        else:
            if "://" not in str(out):
                refuse_inside_source(Path(out))
                refuse_inside_ray_session(Path(out))
            self.run = RunDir(out)
        self._lock = None
        self._started = time.monotonic()
        self.manifest: Manifest | None = None

    # -- claim ----------------------------------------------------------------------------------
    def __enter__(self) -> "StageRun":
        self._acquire()
        try:
            self._check_identity()
            self.manifest = Manifest(stage=self.stage, config=self.config, identity=self.identity, inputs=self.inputs,
                                     seeds=self.seeds, provenance=provenance(), started_at=now())
            write_manifest(self.run.path, self.manifest)
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(self, kind, error, trace) -> None:
        try:
            if kind is not None and self.manifest is not None and self.manifest.status == "running":
                failed = self.manifest.model_copy(update={"status": "failed", "finished_at": now(),
                                                          "wall_s": round(time.monotonic() - self._started, 2)})
                try:
                    write_manifest(self.run.path, failed)
                except OSError:
                    pass  # a full disk: the error being raised says so already
        finally:
            self._release()

    def _acquire(self) -> None:
        from filelock import FileLock, Timeout

        lock = FileLock(str(self.run.file(LOCK)), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise ArcrayError(f"another arcray run is writing to {self.run.location} right now (it holds {LOCK}): wait "
                              "for it to finish, or pass another --out") from None
        self._lock = lock

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _check_identity(self) -> None:
        earlier = load_manifest(self.run.path)
        if earlier is None:
            legacy = self.run.file("config.json")
            if legacy.exists() and any(self.run.path.glob("*.jsonl")):
                warn(f"{self.run.location} was written before runs had manifests: resuming it as a {self.stage} run; "
                     "its earlier settings cannot be checked")
            return
        check_same_run(earlier, self.run.location, self.stage, self.identity)

    # -- the end ----------------------------------------------------------------------------------
    def finish(self, *, metrics: dict[str, Any] | None = None, outputs: Iterable[str] = (),
               exports: dict[str, Any] | None = None, artifacts: Iterable[Path] = (),
               step_metrics: dict[str, list[tuple[int, float]]] | None = None) -> Manifest:
        """Write the complete manifest (headline metrics, output hashes, exports) and log the run to tracking."""
        assert self.manifest is not None, "finish() inside the with block"
        names = [name for name in outputs if name != MANIFEST]
        self.manifest = self.manifest.model_copy(update={
            "status": "complete", "finished_at": now(), "wall_s": round(time.monotonic() - self._started, 2),
            "metrics": dict(metrics or {}), "outputs": hash_outputs(self.run.path, names),
            "exports": dict(exports or {}),
        })
        write_manifest(self.run.path, self.manifest)
        self.run.sync()
        if self.tracking is not None:
            from arcray.tracking import log_stage

            log_stage(self.tracking, self.manifest, self.run.path, artifacts=list(artifacts), step_metrics=step_metrics)
        return self.manifest


def check_same_run(earlier: Manifest, where: str, stage: str, identity: dict[str, Any]) -> None:
    """One line when the run ``earlier`` describes is another stage, or this stage with other settings."""
    if earlier.stage != stage:
        raise ArcrayError(f"{where} is a {earlier.stage} run; a run directory holds one stage: pass a new --out for "
                          f"this {stage} run")
    changed = differences(earlier.identity, identity)
    if changed:
        shown = "; ".join(changed[:3]) + (f"; and {len(changed) - 3} more" if len(changed) > 3 else "")
        raise ArcrayError(f"{where} holds a {stage} run with other settings ({shown}): resume it with the "
                          "settings it was started with, or pass a new --out")


def completed(out: str | os.PathLike, stage: str, *, config: dict[str, Any], operational: Iterable[str] = ()) -> Manifest | None:
    """The manifest of a finished ``stage`` run in ``out`` with these settings (a re-run may skip it);
    None when there is none or it did not finish; one line when it holds another stage or other settings."""
    earlier = load_manifest(out)
    if earlier is None or earlier.status != "complete":
        return None
    check_same_run(earlier, str(out), stage, identity_of(redact(config), operational))
    return earlier
