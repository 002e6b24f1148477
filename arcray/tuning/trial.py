"""One Tune trial: train a student (a Ray Train run launched from here), evaluate it, report.

This is the Train V2 pattern: the Tune trial is a small driver function that launches a
``TorchTrainer``; Ray Train's ``TuneReportCallback`` forwards each epoch's metrics to Tune
(for ASHA), and the trial reports its evaluation once training is done.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arcray.files import atomic_write
from arcray.llm.registry import student_config
from arcray.tuning.config import SC_METRICS, TuneSettings

if TYPE_CHECKING:
    from arcray.arc.render import RenderConfig

SETTINGS_KEY = "__arcray_settings"


def trial_dir(settings: TuneSettings, trial_name: str) -> Path:
    return settings.out / "trials" / trial_name


def train_trial(trial_config: dict[str, Any], env=None) -> None:
    import ray.tune

    if env is not None:
        env.apply()  # the driver's SecretEnv
    settings = TuneSettings.model_validate_json(trial_config[SETTINGS_KEY])
    params = {name: trial_config[name] for name in settings.space}
    context = ray.tune.get_context()
    folder = trial_dir(settings, context.get_trial_name())
    folder.mkdir(parents=True, exist_ok=True)
    done = folder / "metrics.json"
    if done.exists():  # finished before the driver died, but Tune had not recorded it yet
        ray.tune.report(json.loads(done.read_text()))
        return

    started = time.monotonic()
    # Each epoch's eval loss goes to Tune (ASHA, the study's intermediate values) whenever it is the
    # one objective; otherwise an epoch's report would lack what the searcher waits for.
    trained = _train(settings, params, folder, per_epoch=settings.asha_sound)
    metrics: dict[str, Any] = {"eval_loss": trained["best"].get("eval_loss"), "train_steps": trained["steps"]}
    student = student_config(settings.model, trained["adapter"])
    if settings.arc:
        metrics.update(_arc(settings, student, folder))
    if settings.consistency:
        metrics.update(_consistency(settings, student, folder))
    metrics.update({"adapter": trained["adapter"], "trial_wall_s": round(time.monotonic() - started, 1), "evaluated": 1})
    with open(folder / "work.jsonl", "a") as handle:  # one line per time this trial's work was done
        handle.write(json.dumps({"time": time.time(), "params": params}) + "\n")
    atomic_write(done, json.dumps(metrics, indent=2))
    ray.tune.report(metrics)


def train_fields(settings: TuneSettings, params: dict[str, Any], out: Path) -> dict[str, Any]:
    """A trial's TrainConfig fields: the fixed ones, the searched ones, and its resources."""
    from arcray.training.config import TrainConfig

    fields = {"data": settings.data, "model": settings.model, "out": out, "cpus_per_worker": settings.cpus_per_trial,
              "gpu": settings.gpus_per_trial > 0, **settings.train, **params}
    if "tracking" in TrainConfig.model_fields:  # the search's tracking records every trial (tune_callbacks) already
        fields.setdefault("tracking", {"backend": "none"})
    return fields


def _train(settings: TuneSettings, params: dict[str, Any], folder: Path, *, per_epoch: bool) -> dict[str, Any]:
    from arcray.training.config import TrainConfig
    from arcray.training.train import run_training

    config = TrainConfig.build(**train_fields(settings, params, folder / "train"))
    callbacks = []
    if per_epoch:
        from ray.tune.integration.ray_train import TuneReportCallback

        callbacks.append(TuneReportCallback())
    summary_path = folder / "train" / "summary.json"
    if summary_path.exists():  # a restored trial whose training had finished
        return json.loads(summary_path.read_text())
    return run_training(config, ray_callbacks=callbacks)


def dataset_render(data: Path) -> RenderConfig:
    """The prompt style ``data`` was rendered with, so that a trial scores its student on the prompt
    it trained on: the prepare manifest's exports, else what `arcray prepare` recorded before
    manifests (``config.json``'s or ``stats.json``'s ``render``). One line when neither says."""
    from arcray.arc.exemplars import POOL_FILE
    from arcray.arc.render import RenderConfig
    from arcray.errors import ArcrayError
    from arcray.runtime.manifest import load_manifest
    from arcray.validation import explain_validation
    from pydantic import ValidationError

    manifest = load_manifest(data)
    render, pool = None, None
    if manifest is not None and "render" in manifest.exports:
        render, pool = dict(manifest.exports["render"]), manifest.exports.get("exemplar_pool")
    else:
        for name, keys in (("config.json", ("render",)), ("stats.json", ("config", "render"))):
            if (data / name).is_file():
                found: Any = json.loads((data / name).read_text())
                for key in keys:
                    found = found.get(key) if isinstance(found, dict) else None
                if isinstance(found, dict):
                    render = dict(found)
                    break
    if render is None:
        raise ArcrayError(f"tune config: {data} does not record the prompt style it was rendered with (no manifest.json "
                          "exports, config.json or stats.json render), so ARC trials cannot score students on the prompt "
                          "they trained on: prepare it again with `arcray prepare`")
    recorded = render.pop("exemplar_pool", None)  # a path, or (older prepares) the pool itself
    pool = pool or (recorded if isinstance(recorded, str) else None)
    if render.get("exemplars"):
        pool_path = Path(pool) if pool else data / POOL_FILE
        render["exemplar_pool"] = str(pool_path if pool_path.is_absolute() else (data / pool_path).resolve())
    try:
        return RenderConfig.model_validate(render)
    except ValidationError as error:
        raise ArcrayError(f"tune config: the prompt style recorded in {data} is not one this arcray renders "
                          f"({explain_validation(error, RenderConfig, 'render')}): prepare it again") from None


def _arc(settings: TuneSettings, student: dict[str, Any], folder: Path) -> dict[str, Any]:
    from arcray.pipelines.evaluate import STUDENT_EVOLUTION, EvaluateConfig, run_evaluate

    arc = settings.arc
    evolution = STUDENT_EVOLUTION.model_copy(update={"max_generations": arc.max_generations, "population": arc.population,
                                                     "max_new_tokens": arc.max_new_tokens}).model_dump()
    render = dataset_render(settings.data).model_dump(mode="json")
    summary = run_evaluate(EvaluateConfig.build(student=student, tasks=arc.tasks, ids=arc.ids, limit=arc.limit,
                                                evolution=evolution, render=render, out=str(folder / "arc")), progress=False)
    return {"arc_fitness": summary["fitness"]["mean"], "arc_runnable": summary["runnable_share"],
            "arc_solved": summary["solved_share"]}


def _consistency(settings: TuneSettings, student: dict[str, Any], folder: Path) -> dict[str, Any]:
    from arcray.pipelines.sampling import ConsistencyConfig, run_consistency

    sc = settings.consistency
    summary = run_consistency(ConsistencyConfig.build(student=student, dataset=sc.dataset, n=sc.n, temperature=sc.temperature,
                                                      max_new_tokens=sc.max_new_tokens, out=folder / "consistency"),
                              progress=False)
    board = summary["metrics"]
    return {name: board.get(name) for name in SC_METRICS}
