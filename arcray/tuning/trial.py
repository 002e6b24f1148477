"""One Tune trial: train a student (a Ray Train run launched from here), evaluate it, report.

This is the Train V2 pattern: the Tune trial is a small driver function that launches a
``TorchTrainer``; Ray Train's ``TuneReportCallback`` forwards each epoch's metrics to Tune
(for ASHA), and the trial reports its evaluation once training is done.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from arcray.llm.registry import student_config
from arcray.files import atomic_write
from arcray.tuning.config import SC_METRICS, TuneSettings

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
    trained = _train(settings, params, folder, per_epoch=settings.use_asha)
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


def _train(settings: TuneSettings, params: dict[str, Any], folder: Path, *, per_epoch: bool) -> dict[str, Any]:
    from arcray.training.config import TrainConfig
    from arcray.training.train import run_training

    fields = {**settings.train, **params}
    config = TrainConfig.build(data=settings.data, model=settings.model, out=folder / "train",
                               cpus_per_worker=settings.cpus_per_trial, gpu=settings.gpus_per_trial > 0, **fields)
    callbacks = []
    if per_epoch:
        from ray.tune.integration.ray_train import TuneReportCallback

        callbacks.append(TuneReportCallback())
    summary_path = folder / "train" / "summary.json"
    if summary_path.exists():  # a restored trial whose training had finished
        return json.loads(summary_path.read_text())
    return run_training(config, ray_callbacks=callbacks)


def _arc(settings: TuneSettings, student: dict[str, Any], folder: Path) -> dict[str, Any]:
    from arcray.pipelines.evaluate import STUDENT_EVOLUTION, EvaluateConfig, run_evaluate

    arc = settings.arc
    evolution = STUDENT_EVOLUTION.model_copy(update={"max_generations": arc.max_generations, "population": arc.population,
                                                     "max_new_tokens": arc.max_new_tokens}).model_dump()
    summary = run_evaluate(EvaluateConfig.build(student=student, tasks=arc.tasks, ids=arc.ids, limit=arc.limit,
                                                evolution=evolution, out=str(folder / "arc")), progress=False)
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
