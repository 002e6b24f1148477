"""The search: Ray Tune drives trials, Optuna proposes them, ASHA stops the poor ones early.

Re-running the same command after the driver died restores the experiment (``Tuner.restore``)
with the searcher's state: finished trials are not rerun, unfinished ones resume, and the
search ends with the requested number of trials. The Optuna study also lives in an RDB
(SQLite by default) that ``optuna-dashboard`` opens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from arcray.runtime.ray_setup import SecretEnv, ensure_ray
from arcray.runtime.rundir import RunDir
from arcray.tuning.config import Dimension, TuneSettings
from arcray.tuning.trial import SETTINGS_KEY, train_trial

EXPERIMENT = "arcray-tune"


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


def build_tuner(settings: TuneSettings):
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.optuna import OptunaSearch

    metrics = [o.metric for o in settings.objectives]
    modes = [o.mode for o in settings.objectives]
    # The searcher's study stays in memory, inside Tune's own experiment checkpoint, so a restore
    # sees exactly the trials Tune does; the RDB copy for optuna-dashboard is written from the results.
    searcher = OptunaSearch(
        metric=metrics if settings.multi_objective else metrics[0],
        mode=modes if settings.multi_objective else modes[0],
        sampler=_sampler(settings), seed=None,
    )
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
        run_config=tune.RunConfig(name=EXPERIMENT, storage_path=settings.storage(),
                                  failure_config=tune.FailureConfig(max_failures=settings.max_failures)),
    )


def export_study(settings: TuneSettings, rows: list[dict[str, Any]]) -> None:
    """Every trial into an Optuna study in ``settings.optuna_url()`` (what optuna-dashboard opens)."""
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    def distribution(d: Dimension):
        if d.choice is not None:
            return CategoricalDistribution(d.choice)
        if d.uniform is not None:
            return FloatDistribution(*d.uniform)
        if d.loguniform is not None:
            return FloatDistribution(*d.loguniform, log=True)
        return IntDistribution(*d.int_range)

    name = f"{EXPERIMENT}-{settings.out.name}"
    storage = optuna.storages.RDBStorage(settings.optuna_url())
    directions = ["maximize" if o.mode == "max" else "minimize" for o in settings.objectives]
    study = optuna.create_study(study_name=name, storage=storage, directions=directions, load_if_exists=True)
    if [d.name.lower() for d in study.directions] != directions:  # the objectives changed: a new study
        optuna.delete_study(study_name=name, storage=storage)
        study = optuna.create_study(study_name=name, storage=storage, directions=directions)
    exported = {t.user_attrs.get("trial") for t in study.get_trials(deepcopy=False)}
    distributions = {k: distribution(d) for k, d in settings.space.items()}
    for row in rows:
        if row["trial"] in exported:
            continue  # already in the study from an earlier run: its id and history stay
        values = [row.get(o.metric) for o in settings.objectives]
        complete = row["status"] == "done" and all(v is not None for v in values)
        state = optuna.trial.TrialState.COMPLETE if complete else (
            optuna.trial.TrialState.FAIL if row["status"] == "error" else optuna.trial.TrialState.PRUNED)
        params = {k: row[k] for k in settings.space if row.get(k) is not None}
        study.add_trial(optuna.trial.create_trial(
            params=params, distributions={k: distributions[k] for k in params}, values=values if complete else None,
            state=state, user_attrs={"trial": row["trial"], "time_s": row.get("time_s")}))


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
    run_collect(CollectConfig.build(tasks=recipe.tasks, limit=recipe.limit, teacher=recipe.teacher,
                                    concurrency=recipe.concurrency, num_cpus_per_actor=1.0, out=str(root / "collect")))
    run_prepare(PrepareConfig(sources=[root / "collect"], out=settings.data, val_fraction=recipe.val_fraction))


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
    fixed = {"data": settings.data, "model": settings.model, "out": settings.out / "trials" / "preflight",
             "cpus_per_worker": settings.cpus_per_trial, "gpu": settings.gpus_per_trial > 0, **settings.train}
    config = TrainConfig.build(**fixed, **base)
    for name, dimension in settings.space.items():
        for value in dimension.probes():
            try:
                TrainConfig.build(**fixed, **{**base, name: value})
            except ConfigError as error:
                detail = str(error).removeprefix("train config: ")
                raise ConfigError(f"tune config: with {name}={value!r}: {detail}") from None
    training_preflight(config)


def run_tune(settings: TuneSettings) -> dict[str, Any]:
    from ray import tune

    build_missing_data(settings)
    preflight(settings)
    ensure_ray()
    run = RunDir(settings.out)
    run.write_config(settings.model_dump(mode="json"))
    path = str(Path(settings.storage()) / EXPERIMENT) if "://" not in settings.storage() else f"{settings.storage()}/{EXPERIMENT}"
    if tune.Tuner.can_restore(path):
        print(f"arcray tune: restoring the search in {path}", flush=True)
        tuner = tune.Tuner.restore(path, trainable=_trainable(), resume_errored=True)
    else:
        tuner = build_tuner(settings)
    grid = tuner.fit()
    from arcray.tuning.report import summarize_trials, write_tune_report

    summary = summarize_trials(settings, grid)
    export_study(settings, summary["rows"])
    run.write_json("summary.json", summary)
    summary["report"] = str(write_tune_report(settings, summary))
    run.write_json("summary.json", summary)
    return summary
