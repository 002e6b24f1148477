"""The search: Ray Tune drives trials, Optuna proposes them, ASHA stops the poor ones early.

Re-running the same command after the driver died restores the experiment (``Tuner.restore``)
with the searcher's state: finished trials are not rerun, unfinished ones resume, and the
search ends with the requested number of trials. The searcher's Optuna study lives in an RDB
(SQLite by default), written as the search runs, that ``optuna-dashboard`` opens (study.py).
"""

from __future__ import annotations

import os
from typing import Any

from arcray.runtime.storage import join as storage_join
from arcray.runtime.ray_setup import SecretEnv, ensure_ray
from arcray.runtime.manifest import input_ref, load_manifest
from arcray.runtime.rundir import RunDir
from arcray.runtime.stage import StageRun
from arcray.tuning.config import Dimension, TuneSettings
from arcray.tuning.study import EXPERIMENT, LiveOptunaSearch, forget_study, load_study, study_name
from arcray.tuning.trial import SETTINGS_KEY, dataset_render, train_fields, train_trial


def tune_dimension(dimension: Dimension):
    from ray import tune

    if dimension.choice is not None:
        return tune.choice(dimension.choice)
    if dimension.uniform is not None:
        return tune.uniform(*dimension.uniform)
    if dimension.loguniform is not None:
        return tune.loguniform(*dimension.loguniform)
    return tune.randint(dimension.int_range[0], dimension.int_range[1] + 1)


def _sampler(settings: TuneSettings):
    import optuna

    if settings.sampler == "random":
        return optuna.samplers.RandomSampler(seed=settings.seed)
    if settings.sampler == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=settings.seed)
    return optuna.samplers.TPESampler(seed=settings.seed)  # TPE handles several objectives too


def max_epochs(settings: TuneSettings) -> int:
    """The most epochs any trial can train (ASHA's horizon), whatever kind of dimension epochs is."""
    if "epochs" in settings.space:
        return int(max(settings.space["epochs"].probes()))
    return int(settings.train.get("epochs", 3))


def build_tuner(settings: TuneSettings, callbacks: list | tuple = ()):
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    metrics = [o.metric for o in settings.objectives]
    modes = [o.mode for o in settings.objectives]
    # The searcher owns the study in the RDB and checkpoints with Tune's experiment, so a restore
    # sees the trials Tune does (study.py reconciles the few the study saw after the checkpoint).
    searcher = LiveOptunaSearch(settings=settings, sampler=_sampler(settings))
    scheduler = None
    if settings.use_asha:
        scheduler = ASHAScheduler(metric=metrics[0], mode=modes[0], time_attr="training_iteration", max_t=max_epochs(settings) + 1,
                                  grace_period=settings.asha.grace_period, reduction_factor=settings.asha.reduction_factor)
    param_space = {name: tune_dimension(d) for name, d in settings.space.items()}
    param_space[SETTINGS_KEY] = settings.model_dump_json()
    return tune.Tuner(
        _trainable(),
        param_space=param_space,
        tune_config=tune.TuneConfig(search_alg=searcher, scheduler=scheduler, num_samples=settings.num_samples,
                                    max_concurrent_trials=settings.max_concurrent),
        run_config=tune.RunConfig(name=EXPERIMENT, storage_path=settings.storage(), callbacks=[*_callbacks(settings), *callbacks],
                                  failure_config=tune.FailureConfig(max_failures=settings.max_failures)),
    )


def _callbacks(settings: TuneSettings) -> list:
    from arcray.tracking import tune_callbacks

    return tune_callbacks(settings.tracking, settings.out)  # one tracked run per trial (MLflow by default)


def _trainable():
    from ray import tune

    # The trial function only drives: its Ray Train workers ask for the CPUs/GPUs themselves, so
    # the driver holds only a little memory (a CPU fraction would leave the last worker of a full
    # node unplaceable).
    # The key reaches each trial through with_parameters (Ray's object store), never param_space,
    # which Tune writes into every trial's params.json and shows in the dashboard.
    return tune.with_resources(tune.with_parameters(train_trial, env=SecretEnv()), {"memory": 64 * 1024 * 1024})


def build_missing_data(settings: TuneSettings) -> None:
    """Collect and prepare ``settings.data`` from its ``build_data`` recipe when it is not there yet."""
    from arcray.pipelines.collect import CollectConfig, run_collect
    from arcray.training.config import DATASET_DIR
    from arcray.training.prepare import PrepareConfig, run_prepare

    recipe = settings.build_data
    if recipe is None or (settings.data / DATASET_DIR).is_dir():
        return
    root = settings.data.parent
    print(f"arcray tune: building {settings.data} first ({recipe.teacher.backend} teacher on {recipe.tasks})", flush=True)
    run_collect(CollectConfig.build(tasks=recipe.tasks, limit=recipe.limit, max_cells=recipe.max_cells, teacher=recipe.teacher,
                                    concurrency=recipe.concurrency, num_cpus_per_actor=1.0, out=str(root / "collect")))
    run_prepare(PrepareConfig(sources=[root / "collect"], out=settings.data, val_fraction=recipe.val_fraction,
                              render=recipe.render, augment=recipe.augment, max_train_examples=recipe.max_train_examples,
                              max_tokens=recipe.max_tokens, tokenizer=settings.model if recipe.max_tokens else None))


def preflight(settings: TuneSettings) -> None:
    """Before Ray starts: every value the space can take makes a valid training config with the
    fixed fields, and the data, the model and its target modules are there (one line otherwise)."""
    from arcray.errors import ConfigError
    from arcray.training.config import DATASET_DIR, TrainConfig
    from arcray.training.train import preflight as training_preflight

    if not (settings.data / DATASET_DIR).is_dir():
        raise ConfigError(f"tune config: data {str(settings.data)!r} holds no prepared dataset; point it at the --out of "
                          "`arcray prepare`, or add a build_data section (see experiments/configs/tune_smoke.yaml)")
    base = {name: dimension.probes()[0] for name, dimension in settings.space.items()}
    out = settings.out / "trials" / "preflight"
    config = TrainConfig.build(**train_fields(settings, base, out))
    for name, dimension in settings.space.items():
        for value in dimension.probes():
            try:
                TrainConfig.build(**train_fields(settings, {**base, name: value}, out))
            except ConfigError as error:
                detail = str(error).removeprefix("train config: ")
                raise ConfigError(f"tune config: with {name}={value!r}: {detail}") from None
    training_preflight(config)
    if settings.arc:
        dataset_render(settings.data)  # the prompt style ARC trials score students on: one line now if unknown


# A search tops up to more trials, or runs more of them at once, as the same search.
TUNE_OPERATIONAL = ("num_samples", "max_concurrent", "cpus_per_trial", "storage_path", "build_data")


def run_tune(settings: TuneSettings, *, callbacks: list | tuple = ()) -> dict[str, Any]:
    """The whole search, restored when an earlier one in ``settings.out`` was cut short.
    ``callbacks`` are more Tune callbacks for a new search (a restored one keeps its own)."""
    build_missing_data(settings)
    preflight(settings)
    ensure_ray()
    prepared = load_manifest(settings.data)
    with StageRun(settings.out, "tune", config=settings.model_dump(mode="json"), operational=TUNE_OPERATIONAL,
                  inputs=[input_ref(settings.data, prepared if prepared and prepared.status == "complete" else None)],
                  seeds={"sampler": settings.seed}, tracking=settings.tracking) as stage:
        run = stage.run
        run.write_config(settings.model_dump(mode="json"))
        summary = _search(settings, callbacks, run)
        best = summary.get("best") or {}
        stage.finish(
            metrics={"trials": summary["trials"], "finished": summary["finished"], "errored": summary["errored"],
                     **{f"best.{o.metric}": best.get(o.metric) for o in settings.objectives if best}},
            outputs=["summary.json", "report.md", "optuna.db"],
            exports={"best": {k: v for k, v in best.items() if k != "adapter"} if best else None,
                     "best_adapter": summary.get("best_adapter"), "optuna_storage": settings.optuna_url()},
            artifacts=[p for p in (run.file("report.md"), run.file("summary.json"), *sorted(run.path.glob("*.png")))
                       if p.exists()])
    return summary


def _search(settings: TuneSettings, callbacks: list | tuple, run: RunDir) -> dict[str, Any]:
    from ray import tune

    path = storage_join(settings.storage(), EXPERIMENT)
    if tune.Tuner.can_restore(path):
        if load_study(settings) is None:
            from arcray.errors import ArcrayError

            raise ArcrayError(f"the search in {path} can be restored but its Optuna study {study_name(settings)!r} is not in "
                              f"{settings.optuna_url()}: put that optuna.db back, or start the search in a new --out")
        print(f"arcray tune: restoring the search in {path}", flush=True)
        tuner = tune.Tuner.restore(path, trainable=_trainable(), resume_errored=True)
    else:
        if forget_study(settings):
            print(f"arcray tune: starting afresh, so the study {study_name(settings)!r} of an earlier start that Tune "
                  "could not restore was replaced", flush=True)
        tuner = build_tuner(settings, callbacks)
    # Ray's MLflow logger sets MLFLOW_TRACKING_URI (and more) in this process: what runs after the search here
    # (another stage of an experiment, the next test) keeps the tracking it was given, not the trials'.
    ambient = {k: v for k, v in os.environ.items() if k.startswith("MLFLOW_")}
    try:
        grid = tuner.fit()
    finally:
        for key in [k for k in os.environ if k.startswith("MLFLOW_") and k not in ambient]:
            del os.environ[key]
        os.environ.update(ambient)
    from arcray.tuning.report import summarize_trials, write_tune_report

    summary = summarize_trials(settings, grid)
    run.write_json("summary.json", summary)
    summary["report"] = str(write_tune_report(settings, summary))
    run.write_json("summary.json", summary)
    return summary
