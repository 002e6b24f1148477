"""The search's Optuna study, written live into an RDB (SQLite by default) that optuna-dashboard opens.

Ray's ``OptunaSearch`` owns the study: it asks Optuna for each trial's parameters (so a trial
appears, RUNNING, the moment Tune starts it, numbered in the order trials start) and tells Optuna
how it ended (so it has real start and end times). This subclass adds what a user opening the
study needs and what a restored search needs:

- the objectives' names (``eval_loss``, not "Objective 0");
- each epoch's value as an intermediate value at ``step = epoch`` (a curve per trial), and a
  trial that ASHA stopped early as PRUNED, not COMPLETE with a half-trained value;
- each trial's Tune id as the user attribute ``tune_trial``, so the report can join the two;
- after ``Tuner.restore``: the study is newer than the searcher's checkpoint (Tune saves it every
  10 s or so), so a trial asked after that checkpoint is handed to the next trial Tune starts
  instead of leaving a RUNNING orphan beside a duplicate, and a trial told after it is not told twice.
"""

from __future__ import annotations

import logging
from typing import Any

from ray.tune.search.optuna import OptunaSearch

from arcray.tuning.config import TuneSettings

EXPERIMENT = "arcray-tune"
TUNE_TRIAL = "tune_trial"  # the user attribute naming each Optuna trial's Tune trial id
logger = logging.getLogger(__name__)


def study_name(settings: TuneSettings) -> str:
    return f"{EXPERIMENT}-{settings.out.name}"


def storage(settings: TuneSettings):
    import optuna

    return optuna.storages.RDBStorage(settings.optuna_url())


def load_study(settings: TuneSettings):
    """The search's study as optuna-dashboard sees it; None when it does not exist (yet)."""
    import optuna

    try:
        return optuna.load_study(study_name=study_name(settings), storage=storage(settings))
    except KeyError:
        return None


def forget_study(settings: TuneSettings) -> bool:
    """Delete the study of a search that is starting afresh (Tune kept nothing to restore: its
    trials belong to no experiment any more). True when there was one."""
    import optuna

    if load_study(settings) is None:
        return False
    optuna.delete_study(study_name=study_name(settings), storage=storage(settings))
    return True


class LiveOptunaSearch(OptunaSearch):
    """Ray's OptunaSearch on an RDB study, with metric names, epoch curves, pruned trials and a
    restore that never duplicates a trial."""

    def __init__(self, *, settings: TuneSettings, sampler) -> None:
        metrics = [o.metric for o in settings.objectives]
        modes = [o.mode for o in settings.objectives]
        multi = len(metrics) > 1
        super().__init__(metric=metrics if multi else metrics[0], mode=modes if multi else modes[0],
                         sampler=sampler, study_name=study_name(settings), storage=storage(settings))
        self._metric_names = metrics
        self._reusable: list[int] = []  # Optuna trial ids asked after the restored checkpoint, to hand out again

    # -- the study -----------------------------------------------------------------------------
    def _setup_study(self, mode) -> None:
        import warnings

        import optuna

        super()._setup_study(mode)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # stable in use since Optuna 3.2
            self._ot_study.set_metric_names(self._metric_names)

    def suggest(self, trial_id: str) -> dict | None:
        if trial_id not in self._ot_trials and self._reusable:
            import optuna

            trial = optuna.trial.Trial(self._ot_study, self._reusable.pop(0))
            if isinstance(self._space, dict):
                # A driver killed inside Optuna's ask() leaves the trial in the study without all its parameters;
                # Ray's suggest hands out trial.params as they are, and Tune would run the search space's unsampled
                # dimensions. Trial._suggest returns a stored value, else samples and stores one: every
                # suggest_* call of Optuna's own goes through it.
                for name, distribution in self._space.items():
                    if name not in trial.params:
                        trial._suggest(name, distribution)
            self._ot_trials[trial_id] = trial
        params = super().suggest(trial_id)
        self._ot_trials[trial_id].set_user_attr(TUNE_TRIAL, trial_id)
        return params

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        self._report_epoch(trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False) -> None:
        import optuna

        if trial_id in self._completed_trials or trial_id not in self._ot_trials:
            return  # told before the driver died; or a trial this searcher never asked for
        trial = self._ot_trials[trial_id]
        result = result or {}
        values = [result.get(metric) for metric in self._metric_names]
        if error:
            state, told = optuna.trial.TrialState.FAIL, None
        elif result.get("evaluated"):  # ran to the end; an objective it could not measure fails it
            measured = all(v is not None for v in values)
            state = optuna.trial.TrialState.COMPLETE if measured else optuna.trial.TrialState.FAIL
            told = (values if len(values) > 1 else values[0]) if measured else None
        else:  # stopped early (ASHA) or never measured: Optuna keeps its last epoch's value
            self._report_epoch(trial_id, result)
            state, told = optuna.trial.TrialState.PRUNED, None
        try:
            self._ot_study.tell(trial, told, state=state)
        except (ValueError, RuntimeError) as problem:  # NaN, or finished elsewhere: the study stays as it is
            logger.warning("Optuna trial %s was not told %s: %s", trial.number, state.name, problem)
        self._completed_trials.add(trial_id)

    def _report_epoch(self, trial_id: str, result: dict[str, Any]) -> None:
        """An epoch's value at step = epoch (single objective: Optuna keeps no curves for several)."""
        import warnings

        import optuna

        value = result.get(self._metric_names[0])
        if len(self._metric_names) > 1 or "epoch" not in result or result.get("evaluated") or value is None:
            return
        if trial_id in self._completed_trials or trial_id not in self._ot_trials:
            return
        try:
            with warnings.catch_warnings():  # an epoch reported again (a stopped trial's last, a replay) keeps its value
                warnings.filterwarnings("ignore", message="The reported value is ignored")
                self._ot_trials[trial_id].report(float(value), step=max(1, round(float(result["epoch"]))))
        except optuna.exceptions.UpdateFinishedTrialError:
            pass  # finished in the study before the driver died; Tune is only catching up

    # -- restore -------------------------------------------------------------------------------
    def restore(self, checkpoint_path: str) -> None:
        super().restore(checkpoint_path)
        self._reconcile()

    def _reconcile(self) -> None:
        """Make the restored searcher agree with the study, which kept going after the checkpoint."""
        if self._ot_study is None:
            return
        trials = {t._trial_id: t for t in self._ot_study.get_trials(deepcopy=False)}
        known = {trial._trial_id: tune_id for tune_id, trial in self._ot_trials.items()}
        for trial_id, tune_id in known.items():
            frozen = trials.get(trial_id)
            if frozen is not None and frozen.state.is_finished():
                self._completed_trials.add(tune_id)
        self._reusable = sorted((t._trial_id for t in trials.values() if t._trial_id not in known and not t.state.is_finished()),
                                key=lambda i: trials[i].number)
        if self._reusable:
            logger.info("reusing %d Optuna trial(s) asked after Tune's last checkpoint", len(self._reusable))
