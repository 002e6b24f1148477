"""Where a run's params, metrics and artifacts go besides its run directory: MLflow or W&B.

One switch, :class:`TrackingConfig`, routes every stage the same way:

- a stage that ends calls :func:`log_stage` with its manifest: one MLflow run per stage run, named
  ``<stage>:<run dir name>``, holding the config as params, the headline metrics (an interval's
  bounds as ``<name>_low``/``<name>_high``), per-step series, the reports, plots and adapter as
  artifacts, and the provenance as tags;
- training hands TRL's ``report_to`` and the worker env from :func:`trainer_report_to` to the
  Ray Train workers, so the per-step loss lands in that same run;
- a Tune search adds :func:`tune_callbacks`: one MLflow run per trial, nested under the tune run.

The embedded default needs no server: a SQLite file inside the run directory
(``RUN_DIR/mlflow.db``, artifacts in ``RUN_DIR/mlartifacts``); browse it with
``mlflow ui --backend-store-uri sqlite:///RUN_DIR/mlflow.db``. It is a local file store, but not
MLflow's folder-of-files ``file:`` store: MLflow 3 refuses that one unless
``MLFLOW_ALLOW_FILE_STORE=true`` ("maintenance mode"), and a process-wide opt-out is not ours
to set. ``$MLFLOW_TRACKING_URI`` or ``uri`` point anywhere else (an ``mlflow server``, Databricks).

Re-logging a run directory (a resumed run ending again) updates its run: the run id is kept in
``RUN_DIR/tracking.json``, and runs are tagged ``arcray.run_dir`` + ``arcray.stage`` to be found
without it. Secrets never leave: configs are redacted, text artifacts and tags scrubbed. And
tracking never fails a run: a missing package or an unreachable server is one warning line.
"""

from __future__ import annotations

import os

import json
import logging
import math
import re
import shutil
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlparse, urlunparse

from pydantic import BaseModel, ConfigDict, Field

from arcray.errors import ArcrayError, warn

if TYPE_CHECKING:
    from arcray.runtime.manifest import Manifest, Provenance

__all__ = ["TrackingConfig", "resolve_uri", "log_stage", "trainer_report_to", "worker_report_to", "tune_callbacks"]

EMBEDDED_DB = "mlflow.db"
EMBEDDED_ARTIFACTS = "mlartifacts"
RECORD = "tracking.json"  # which tracked run belongs to this run directory
REACH_TIMEOUT_S = 10
_TEXT_LIMIT = 64 << 20  # larger files are copied as they are, not scanned for secrets
_NAME = re.compile(r"[^0-9A-Za-z_\-. /:]")  # what MLflow accepts in a param, metric or tag name
_INSTALL = {"mlflow": "pip install 'arcray[track]' (or pip install mlflow)", "wandb": "pip install wandb"}


class TrackingConfig(BaseModel):
    """Where a stage's params, metrics and artifacts are recorded besides its run directory."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["mlflow", "wandb", "none"] = Field(
        default_factory=lambda: _default_backend(), description="mlflow (the default), wandb (Weights & Biases), or none "
        "to record only in the run directory; $ARCRAY_TRACKING sets the default for every stage")
    uri: str | None = Field(
        None, description="MLflow tracking URI (None: $MLFLOW_TRACKING_URI, else sqlite in the run directory); "
                          "for wandb a self-hosted server's URL (None: $WANDB_BASE_URL, else W&B's cloud)")
    experiment: str = Field("arcray", min_length=1, description="MLflow experiment / W&B project")


class _Untracked(Exception):
    """Why this run cannot be tracked, as the one line the user sees."""


def _default_backend() -> str:
    """$ARCRAY_TRACKING (mlflow, wandb, none) when set, else mlflow: one switch for every stage of a process."""
    chosen = os.environ.get("ARCRAY_TRACKING", "").strip().lower() or "mlflow"
    if chosen not in ("mlflow", "wandb", "none"):
        from arcray.errors import ConfigError

        raise ConfigError(f"ARCRAY_TRACKING={chosen!r}: use mlflow, wandb or none")
    return chosen


def resolve_uri(config: TrackingConfig, run_dir: Path) -> str | None:
    """The tracking URI a run in ``run_dir`` records to; None for ``none`` (and for W&B's cloud)."""
    import os

    if config.backend == "none":
        return None
    if config.backend == "wandb":
        return config.uri or os.environ.get("WANDB_BASE_URL") or None
    uri = config.uri or os.environ.get("MLFLOW_TRACKING_URI") or None
    if uri is None:
        return _embedded_uri(run_dir)
    if not urlparse(uri).scheme and uri.endswith(".db"):  # a path to a SQLite file
        return f"sqlite:///{Path(uri).expanduser().resolve().as_posix()}"
    return uri


def _embedded_uri(run_dir: Path) -> str:
    return f"sqlite:///{(Path(run_dir).resolve() / EMBEDDED_DB).as_posix()}"


# -- the stage's run ----------------------------------------------------------------------------
def log_stage(
    config: TrackingConfig,
    manifest: "Manifest",
    run_dir: Path,
    *,
    artifacts: Iterable[Path] = (),
    step_metrics: dict[str, list[tuple[int, float]]] | None = None,
) -> str | None:
    """Record one stage run (params, metrics, artifacts, provenance tags); its run id, None when untracked.

    ``artifacts`` are files or folders (reports, plots, an adapter); ``manifest.json`` always goes
    too. ``step_metrics`` are per-step series, ``name -> [(step, value), …]``. Logging the same
    run directory again updates its run. Never raises for tracking's sake: one warning instead.
    """
    if config.backend == "none":
        return None
    run_dir = Path(run_dir)
    try:
        _require(config.backend)
        log = _mlflow_log_stage if config.backend == "mlflow" else _wandb_log_stage
        return log(config, manifest, run_dir, list(artifacts), step_metrics or {})
    except Exception as error:  # tracking is a copy of what the run directory already holds: never fail the run
        _warn_untracked(config, run_dir, error)
        return None


def trainer_report_to(config: TrackingConfig, run_dir: Path) -> tuple[list[str] | str, dict[str, str]]:
    """TRL's ``report_to`` and the env the Ray Train workers need for it (apply it with :func:`worker_report_to`).

    The driver opens the train stage's run here, so the workers' per-step losses and the final
    :func:`log_stage` land in one run; ``("none", {})`` when untracked (with one warning).
    """
    if config.backend == "none":
        return "none", {}
    run_dir = Path(run_dir)
    try:
        _require(config.backend)
        if config.backend == "mlflow":
            uri = resolve_uri(config, run_dir)
            client = _mlflow_client(uri)
            run_id = _mlflow_stage_run(client, config, uri, run_dir, "train")
            return "mlflow", {
                "MLFLOW_TRACKING_URI": uri, "MLFLOW_EXPERIMENT_NAME": config.experiment, "MLFLOW_RUN_ID": run_id,
                "MLFLOW_FLATTEN_PARAMS": "TRUE",  # nested TrainingArguments as dotted params, not dropped as too long
                "HF_MLFLOW_LOG_ARTIFACTS": "FALSE",  # checkpoints go to Ray Train; the adapter comes with log_stage
            }
        run_id = _wandb_run_id(config, run_dir, "train")
        env = {"WANDB_PROJECT": config.experiment, "WANDB_RUN_ID": run_id, "WANDB_RESUME": "allow",
               "WANDB_DIR": str(run_dir.resolve()), "WANDB_LOG_MODEL": "false"}
        if uri := resolve_uri(config, run_dir):
            env["WANDB_BASE_URL"] = uri
        return "wandb", env
    except Exception as error:  # training goes on untracked
        _warn_untracked(config, run_dir, error)
        return "none", {}


def worker_report_to(report_to: list[str] | str, env: dict[str, str]) -> list[str] | str:
    """In a training worker: apply :func:`trainer_report_to`'s env; the ``report_to`` to use there.

    A worker on another node cannot see the driver's embedded SQLite file: it trains untracked
    (one warning) rather than start a second, empty store of its own.
    """
    import os

    uri = env.get("MLFLOW_TRACKING_URI", "")
    if report_to == "mlflow" and uri.startswith("sqlite:///") and not Path(uri[len("sqlite:///"):]).is_file():
        warn(f"the MLflow store {uri} is on another machine than this training worker, so the per-step losses "
             "are not tracked: use an `mlflow server` URI (MLFLOW_TRACKING_URI) on a multi-node cluster")
        return "none"
    os.environ.update(env)
    if report_to == "mlflow":
        import mlflow

        # transformers' callback keeps a URI this process set before (an earlier trial's): this run's wins
        mlflow.set_tracking_uri(uri)
    return report_to


def tune_callbacks(config: TrackingConfig, run_dir: Path) -> list:
    """Ray Tune logger callbacks: one MLflow (or W&B) run per trial, tagged with provenance; [] for none.

    MLflow trials are nested under the tune stage's run (the one :func:`log_stage` later fills).
    """
    if config.backend == "none":
        return []
    run_dir = Path(run_dir)
    try:
        _require(config.backend)
        if config.backend == "mlflow":
            uri = resolve_uri(config, run_dir)
            client = _mlflow_client(uri)
            parent = _mlflow_stage_run(client, config, uri, run_dir, "tune")
            # not arcray.stage "tune": that tag finds the tune run itself
            tags = {**_tags(_provenance(), "tune", run_dir), "arcray.stage": "tune-trial", "mlflow.parentRunId": parent}
            return [_mlflow_tune_callback()(tracking_uri=uri, experiment_name=config.experiment, tags=tags)]
        import wandb

        kwargs = {"settings": wandb.Settings(base_url=uri)} if (uri := resolve_uri(config, run_dir)) else {}
        git = (_provenance().git_sha or "unknown")[:12]
        return [_wandb_tune_callback()(project=config.experiment, group=f"tune:{run_dir.name}", log_config=False,
                                       dir=str(run_dir.resolve()), tags=["stage:tune-trial", f"git:{git}"], **kwargs)]
    except Exception as error:  # the search goes on untracked
        _warn_untracked(config, run_dir, error)
        return []


def _require(backend: str) -> None:
    from importlib.util import find_spec

    if find_spec(backend) is None:
        raise _Untracked(f"the {backend} package is not installed: {_INSTALL[backend]}, or set tracking backend none")


def _warn_untracked(config: TrackingConfig, run_dir: Path, error: Exception) -> None:
    """The one line for a run that could not be tracked: why, and what to do."""
    if isinstance(error, (_Untracked, ArcrayError)):
        reason = str(error)
    else:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        reason = f"{type(error).__name__}: {first[:300]}"
        if "filesystem tracking backend" in reason:  # MLflow 3 refuses its folder store by default
            reason = ("MLflow 3 refuses a folder (file:) tracking store: pass a sqlite:///PATH/mlflow.db URI, or set "
                      "MLFLOW_ALLOW_FILE_STORE=true")
    where = _shown(resolve_uri(config, run_dir) or config.backend) if config.backend != "wandb" else "W&B"
    warn(f"this run is not tracked in {where} ({reason}); its results are kept in {run_dir}, and re-running the "
         "same command records them once tracking works")


def _shown(uri: str) -> str:
    """``uri`` without a user:password part, fit for a message or a record."""
    parts = urlparse(uri)
    if parts.password or parts.username:
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        return urlunparse(parts._replace(netloc=netloc))
    return uri


# -- MLflow -------------------------------------------------------------------------------------
def _mlflow_client(uri: str) -> Any:
    """A client for ``uri``, after checking that an HTTP server answers at all.

    MLflow retries a refused connection 7 times with exponential backoff (minutes) before it
    gives up; one short request first turns a server that is down into an immediate warning.
    """
    import urllib.error
    import urllib.request

    if urlparse(uri).scheme in ("http", "https"):
        try:
            urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=REACH_TIMEOUT_S).close()
        except urllib.error.HTTPError:
            pass  # it answered: the address is right, whatever /health says
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise _Untracked(f"no MLflow server answers at {_shown(uri)} ({reason}): start it (`mlflow server "
                             "--host 127.0.0.1 --port PORT`) or point MLFLOW_TRACKING_URI at one that runs") from None
    from mlflow.tracking import MlflowClient

    # "Creating initial MLflow database tables..." on every new embedded store is MLflow's news, not the user's.
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)
    return MlflowClient(tracking_uri=uri)


def _mlflow_log_stage(config: TrackingConfig, manifest: "Manifest", run_dir: Path, artifacts: list[Path],
                      step_metrics: dict[str, list[tuple[int, float]]]) -> str:
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.utils.validation import MAX_METRICS_PER_BATCH, MAX_PARAMS_TAGS_PER_BATCH

    uri = resolve_uri(config, run_dir)
    client = _mlflow_client(uri)
    run_id = _mlflow_stage_run(client, config, uri, run_dir, manifest.stage, started_at=manifest.started_at)
    run = client.get_run(run_id)
    stamp = _millis(manifest.finished_at or manifest.started_at)

    # MLflow keeps a param's first value (a resumed run's, or TRL's for a shared name); manifest.json has them all.
    params = [Param(k, v) for k, v in _params(manifest.config).items() if k not in run.data.params]
    tags = [RunTag(k, v) for k, v in {**_tags(manifest.provenance, manifest.stage, run_dir),
                                      "arcray.status": manifest.status}.items()]
    metrics = [Metric(k, v, stamp, 0) for k, v in _metrics(manifest.metrics).items() if run.data.metrics.get(k) != v]
    for name, points in step_metrics.items():
        key = _key(name)
        seen = {(m.step, m.value) for m in client.get_metric_history(run_id, key)}
        metrics += [Metric(key, float(v), stamp, int(s)) for s, v in points
                    if _finite(v) and (int(s), float(v)) not in seen]
    for start in range(0, max(len(params), len(tags)), MAX_PARAMS_TAGS_PER_BATCH):
        client.log_batch(run_id, params=params[start:start + MAX_PARAMS_TAGS_PER_BATCH],
                         tags=tags[start:start + MAX_PARAMS_TAGS_PER_BATCH])
    for start in range(0, len(metrics), MAX_METRICS_PER_BATCH):
        client.log_batch(run_id, metrics=metrics[start:start + MAX_METRICS_PER_BATCH])

    with tempfile.TemporaryDirectory(prefix="arcray-track-") as staging:
        _stage_artifacts(manifest, run_dir, artifacts, Path(staging))
        client.log_artifacts(run_id, staging)
    if manifest.status != "running":
        client.set_terminated(run_id, "FINISHED" if manifest.status == "complete" else "FAILED",
                              end_time=_millis(manifest.finished_at) if manifest.finished_at else None)
    return run_id


def _mlflow_stage_run(client: Any, config: TrackingConfig, uri: str, run_dir: Path, stage: str, *,
                      started_at: str | None = None) -> str:
    """The id of the MLflow run of ``stage`` in ``run_dir``: the recorded one, a tagged one, or a new one."""
    from mlflow.exceptions import MlflowException

    experiment_id = _mlflow_experiment(client, config.experiment, uri)
    # the embedded store moves with its run directory: recorded by name, not by its absolute path
    store = "embedded" if uri == _embedded_uri(run_dir) else _shown(uri)
    recorded = _record(run_dir).get(f"mlflow:{stage}", {})
    if recorded.get("uri") == store and recorded.get("run_id"):
        try:
            run = client.get_run(recorded["run_id"])
            if run.info.lifecycle_stage == "active" and run.info.experiment_id == experiment_id:
                return run.info.run_id
        except MlflowException:
            pass  # deleted from the store since: find it by its tags, or start anew
    where = str(run_dir.resolve())
    found = []
    if "'" not in where:  # MLflow's filter strings have no escape for a quote
        found = client.search_runs([experiment_id], max_results=1, order_by=["attributes.start_time DESC"],
                                   filter_string=f"tags.`arcray.run_dir` = '{where}' and tags.`arcray.stage` = '{stage}'")
    if found:
        run_id = found[0].info.run_id
    else:
        run_id = client.create_run(experiment_id, run_name=f"{stage}:{run_dir.name}",
                                   start_time=_millis(started_at) if started_at else None,
                                   tags=_tags(_provenance(), stage, run_dir)).info.run_id
    _remember(run_dir, f"mlflow:{stage}", {"uri": store, "experiment": config.experiment, "run_id": run_id})
    return run_id


def _mlflow_experiment(client: Any, name: str, uri: str) -> str:
    """The experiment's id, created on first use; a local SQLite store keeps its artifacts beside it."""
    from mlflow.exceptions import MlflowException

    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        location = None
        if uri.startswith("sqlite:///"):  # else MLflow puts them in ./mlruns of whatever folder the run started in
            location = (Path(uri[len("sqlite:///"):]).parent / EMBEDDED_ARTIFACTS).resolve().as_uri()
        try:
            return client.create_experiment(name, artifact_location=location)
        except MlflowException:  # another process created it in between
            experiment = client.get_experiment_by_name(name)
            if experiment is None:
                raise
    if experiment.lifecycle_stage != "active":
        raise _Untracked(f"the MLflow experiment {name!r} was deleted: restore it (`mlflow experiments restore "
                         f"--experiment-id {experiment.experiment_id}`) or set another tracking experiment")
    return experiment.experiment_id


def _mlflow_tune_callback() -> type:
    from ray.air.integrations.mlflow import MLflowLoggerCallback

    class SafeMLflowLoggerCallback(MLflowLoggerCallback):
        """Ray's callback with each trial's config redacted and cut to MLflow's limits (Ray logs it
        raw: a long value or a key is an exception there), and an MLflow failure one warning that
        stops the logging, never the search."""

        failed = False

        def setup(self, *args, **kwargs):
            self._guard(super().setup, *args, **kwargs)

        def log_trial_start(self, trial):  # noqa: ANN001 (Ray's signature)
            def start():
                if trial not in self._trial_runs:
                    tags = {**self.tags, "trial_name": str(trial)}
                    self._trial_runs[trial] = self.mlflow_util.start_run(tags=tags, run_name=str(trial)).info.run_id
                self.mlflow_util.log_params(run_id=self._trial_runs[trial], params_to_log=_params(trial.config))
            self._guard(start)

        def log_trial_result(self, iteration, trial, result):  # noqa: ANN001
            self._guard(super().log_trial_result, iteration, trial, result)

        def log_trial_end(self, trial, failed=False):  # noqa: ANN001
            self._guard(super().log_trial_end, trial, failed)

        def _guard(self, call, *args, **kwargs):  # noqa: ANN001
            if self.failed:
                return
            try:
                call(*args, **kwargs)
            except Exception as error:  # the search's results are its own; MLflow only copies them
                self.failed = True
                warn(f"the trials are no longer tracked in MLflow at {_shown(self.tracking_uri or '')} "
                     f"({type(error).__name__}: {str(error).strip()[:200]}); the search goes on")

    return SafeMLflowLoggerCallback


# -- Weights & Biases ---------------------------------------------------------------------------
def _wandb_log_stage(config: TrackingConfig, manifest: "Manifest", run_dir: Path, artifacts: list[Path],
                     step_metrics: dict[str, list[tuple[int, float]]]) -> str:
    """The same record in W&B: config, summary metrics, per-step series, one artifact, provenance."""
    import wandb

    run_id = _wandb_run_id(config, run_dir, manifest.stage)
    tags = _tags(manifest.provenance, manifest.stage, run_dir)
    settings = wandb.Settings(base_url=uri) if (uri := resolve_uri(config, run_dir)) else None
    run = wandb.init(project=config.experiment, name=f"{manifest.stage}:{run_dir.name}", id=run_id, resume="allow",
                     dir=str(run_dir.resolve()), config={**_params(manifest.config), **tags},
                     tags=[t[:64] for t in (f"stage:{manifest.stage}", f"git:{tags.get('arcray.git_sha', '')[:12]}")],
                     settings=settings)
    try:
        run.summary.update({**_metrics(manifest.metrics), "arcray.status": manifest.status})
        for name, points in step_metrics.items():
            key = _key(name)
            run.define_metric(key, step_metric=f"{key}/step")
            for step, value in points:
                run.log({key: float(value), f"{key}/step": int(step)})
        with tempfile.TemporaryDirectory(prefix="arcray-track-") as staging:
            _stage_artifacts(manifest, run_dir, artifacts, Path(staging))
            artifact = wandb.Artifact(re.sub(r"[^0-9A-Za-z_.-]", "-", f"{manifest.stage}-{run_dir.name}"),
                                      type=manifest.stage)
            artifact.add_dir(staging)
            run.log_artifact(artifact).wait()
    finally:
        run.finish(exit_code=0 if manifest.status != "failed" else 1)
    return run_id


def _wandb_tune_callback() -> type:
    from ray.air.integrations.wandb import WandbLoggerCallback

    class RedactedWandbLoggerCallback(WandbLoggerCallback):
        """Ray's callback, handed each trial's config with its secrets redacted (Ray sends it to W&B raw)."""

        def log_trial_start(self, trial):  # noqa: ANN001 (Ray's signature)
            from arcray.runtime.rundir import redact

            config = trial.config
            trial.config = redact(config)
            try:
                super().log_trial_start(trial)
            finally:
                trial.config = config

    return RedactedWandbLoggerCallback


def _wandb_run_id(config: TrackingConfig, run_dir: Path, stage: str) -> str:
    """The W&B run id for ``stage`` in ``run_dir``: recorded on first use, then reused (W&B resumes it)."""
    import uuid

    recorded = _record(run_dir).get(f"wandb:{stage}", {})
    if recorded.get("project") == config.experiment and recorded.get("run_id"):
        return recorded["run_id"]
    run_id = uuid.uuid4().hex[:16]  # an identifier, not a result: nothing the run computes depends on it
    _remember(run_dir, f"wandb:{stage}", {"project": config.experiment, "run_id": run_id})
    return run_id


# -- what goes in -------------------------------------------------------------------------------
def _params(config: dict[str, Any]) -> dict[str, str]:
    """The config as MLflow params: secrets redacted, nested keys dotted, names and values cut to MLflow's limits."""
    from arcray.redaction import scrub
    from arcray.runtime.rundir import redact

    flat: dict[str, str] = {}

    def walk(value: Any, prefix: str) -> None:
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(v, f"{prefix}.{k}" if prefix else str(k))
            return
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        flat[_key(prefix)] = scrub(text)[:6000]  # mlflow.utils.validation.MAX_PARAM_VAL_LENGTH

    walk(redact(config), "")
    flat.pop("", None)
    return flat


def _metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """The numeric headline metrics, nested names dotted; an interval {value, low, high} as three."""
    flat: dict[str, float] = {}

    def walk(value: Any, name: str) -> None:
        if isinstance(value, bool) or _finite(value):
            flat[_key(name)] = float(value)
        elif isinstance(value, dict) and {"value", "low", "high"} <= value.keys():
            for part, suffix in (("value", ""), ("low", "_low"), ("high", "_high")):
                if _finite(value[part]):
                    flat[_key(name + suffix)] = float(value[part])
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{name}.{k}" if name else str(k))

    walk(metrics, "")
    return flat


def _tags(provenance: "Provenance", stage: str, run_dir: Path) -> dict[str, str]:
    """Provenance as tags: ``arcray.*`` for code, machine and run, ``pkg.<name>`` per package version."""
    from arcray.redaction import scrub

    tags = {
        "arcray.stage": stage, "arcray.run_dir": str(Path(run_dir).resolve()), "arcray.version": provenance.arcray,
        "arcray.git_sha": provenance.git_sha or "unknown", "arcray.git_dirty": str(provenance.git_dirty).lower(),
        "arcray.python": provenance.python, "arcray.platform": provenance.platform, "arcray.cpu": provenance.cpu,
        "arcray.cpu_count": str(provenance.cpu_count), "arcray.gpus": ", ".join(provenance.gpus) or "none",
        "arcray.ray": provenance.ray or "none", "arcray.host": provenance.host,
        **{f"pkg.{name}": version for name, version in provenance.packages.items() if version},
    }
    if provenance.git_sha:
        tags["mlflow.source.git.commit"] = provenance.git_sha  # MLflow's UI shows this one beside the run
    return {_key(k): scrub(v)[:8000] for k, v in tags.items()}


def _provenance() -> "Provenance":
    from arcray.runtime.manifest import provenance

    return provenance()


def _stage_artifacts(manifest: "Manifest", run_dir: Path, artifacts: list[Path], staging: Path) -> None:
    """Copy ``manifest.json`` and ``artifacts`` into ``staging``, text scrubbed of secrets."""
    from arcray.redaction import scrub
    from arcray.runtime.manifest import MANIFEST
    from arcray.runtime.rundir import redact

    # stages redact their configs already; a second pass costs nothing and guards the one that forgot
    redacted = manifest.model_copy(update={"config": redact(manifest.config), "identity": redact(manifest.identity)})
    (staging / MANIFEST).write_text(scrub(redacted.model_dump_json(indent=2)) + "\n", encoding="utf-8")
    for path in artifacts:
        path = Path(path) if Path(path).is_absolute() or Path(path).exists() else run_dir / path
        if path.is_file():
            _copy_scrubbed(path, staging / path.name)
        elif path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                _copy_scrubbed(file, staging / path.name / file.relative_to(path))


def _copy_scrubbed(source: Path, target: Path) -> None:
    from arcray.redaction import scrub

    target.parent.mkdir(parents=True, exist_ok=True)
    if source.stat().st_size <= _TEXT_LIMIT:
        data = source.read_bytes()
        if b"\0" not in data:
            try:
                target.write_text(scrub(data.decode("utf-8")), encoding="utf-8")
                return
            except UnicodeDecodeError:
                pass  # binary: a plot, safetensors
    shutil.copyfile(source, target)


def _key(name: str) -> str:
    return _NAME.sub("_", name)[:250]  # mlflow.utils.validation.MAX_ENTITY_KEY_LENGTH


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _millis(timestamp: str) -> int:
    return int(datetime.fromisoformat(timestamp).timestamp() * 1000)


# -- the run directory's record -----------------------------------------------------------------
def _record(run_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((Path(run_dir) / RECORD).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}  # none yet, or unreadable: the tags find the run instead


def _remember(run_dir: Path, key: str, entry: dict[str, str]) -> None:
    from arcray.files import atomic_write

    record = _record(run_dir)
    if record.get(key) != entry:
        Path(run_dir).mkdir(parents=True, exist_ok=True)
        atomic_write(Path(run_dir) / RECORD, json.dumps({**record, key: entry}, indent=2, sort_keys=True) + "\n")
