"""The searcher's study across a driver that died between Tune's checkpoint and its last trials:
restored, it neither duplicates a trial nor tells one twice (Ray's OptunaSearch and Optuna, no cluster)."""

import optuna

from arcray.tuning.config import TuneSettings
from arcray.tuning.run import _sampler, tune_dimension
from arcray.tuning.study import TUNE_TRIAL, LiveOptunaSearch, load_study
from arcray.validation import build_config

SPACE = {"lora_r": {"choice": [2, 4, 8]}, "lr": {"loguniform": [1e-4, 1e-2]}}


def searcher_for(config: TuneSettings) -> LiveOptunaSearch:
    searcher = LiveOptunaSearch(settings=config, sampler=_sampler(config))
    # what Tune does with the Tuner's param_space before the first trial
    searcher.set_search_properties(None, None, {name: tune_dimension(d) for name, d in config.space.items()})
    return searcher


def test_a_restored_searcher_reuses_the_trial_asked_after_its_checkpoint(tmp_path):
    config = build_config(TuneSettings, "tune config", data=tmp_path / "data", space=SPACE, seed=0, out=tmp_path / "tune")
    config.out.mkdir(parents=True)
    first = searcher_for(config)
    first.suggest("t0")
    first.on_trial_result("t0", {"epoch": 1.0, "eval_loss": 2.0, "training_iteration": 1})
    first.save(str(tmp_path / "searcher.pkl"))  # Tune's experiment checkpoint
    first.on_trial_complete("t0", {"eval_loss": 1.5, "evaluated": 1})  # after it: told in the study only
    orphan = first.suggest("t1")  # asked after it: Tune will not know this trial
    first.on_trial_result("t1", {"epoch": 1.0, "eval_loss": 3.0, "training_iteration": 1})
    del first  # the driver dies

    restored = LiveOptunaSearch(settings=config, sampler=_sampler(config))
    restored.restore(str(tmp_path / "searcher.pkl"))
    restored.on_trial_result("t0", {"epoch": 1.0, "eval_loss": 9.0})  # Tune replays t0: nothing changes
    restored.on_trial_complete("t0", {"eval_loss": 9.0, "evaluated": 1})
    assert restored.suggest("t2") == orphan  # the next trial Tune starts is the orphan, under its number
    restored.on_trial_result("t2", {"epoch": 1.0, "eval_loss": 0.9})
    restored.on_trial_result("t2", {"epoch": 2.0, "eval_loss": 0.8})
    restored.on_trial_complete("t2", {"epoch": 2.0, "eval_loss": 0.8})  # ASHA stopped it: no evaluation

    trials = load_study(config).get_trials()
    assert len(trials) == 2 and [t.user_attrs[TUNE_TRIAL] for t in trials] == ["t0", "t2"]
    assert trials[0].state == optuna.trial.TrialState.COMPLETE and trials[0].value == 1.5
    assert trials[0].intermediate_values == {1: 2.0}
    assert trials[1].state == optuna.trial.TrialState.PRUNED and trials[1].value == 0.8
    assert trials[1].intermediate_values == {1: 3.0, 2: 0.8}  # step 1 was reported before the driver died
    assert load_study(config).metric_names == ["eval_loss"]
    restored.suggest("t3")
    assert len(load_study(config).trials) == 3  # and then new trials are asked as usual


def test_a_trial_asked_by_a_driver_killed_mid_ask_gets_all_its_parameters(tmp_path):
    """Killed between Optuna creating the trial and storing its parameters (CI hit it once): the restored searcher
    hands the trial out with every dimension sampled, never Tune's unsampled search space."""
    config = build_config(TuneSettings, "tune config", data=tmp_path / "data", space=SPACE, seed=0, out=tmp_path / "tune")
    config.out.mkdir(parents=True)
    first = searcher_for(config)
    first.suggest("t0")
    first.save(str(tmp_path / "searcher.pkl"))
    study = load_study(config)
    half = study._storage.create_new_trial(study._study_id)  # ask() had begun: a trial with no parameters yet
    del first

    restored = LiveOptunaSearch(settings=config, sampler=_sampler(config))
    restored.restore(str(tmp_path / "searcher.pkl"))
    params = restored.suggest("t1")
    assert set(params) == {"lora_r", "lr"} and params["lora_r"] in (2, 4, 8) and 1e-4 <= params["lr"] <= 1e-2
    stored = [t for t in load_study(config).get_trials() if t._trial_id == half]
    assert stored and stored[0].params == params and stored[0].user_attrs[TUNE_TRIAL] == "t1"


def test_an_evaluated_trial_without_its_objective_fails_and_an_errored_one_too(tmp_path):
    config = build_config(TuneSettings, "tune config", data=tmp_path / "data", space=SPACE, out=tmp_path / "tune",
                          objectives=[{"metric": "eval_loss"}, {"metric": "arc_runnable"}], arc={})
    config.out.mkdir(parents=True)
    searcher = searcher_for(config)
    for name in ("a", "b", "c"):
        searcher.suggest(name)
    searcher.on_trial_result("a", {"epoch": 1.0, "eval_loss": 2.0})  # several objectives: no curves in Optuna
    searcher.on_trial_complete("a", {"eval_loss": 1.0, "arc_runnable": 0.5, "evaluated": 1})
    searcher.on_trial_complete("b", {"eval_loss": 1.0, "arc_runnable": None, "evaluated": 1})
    searcher.on_trial_complete("c", error=True)
    states = [t.state for t in load_study(config).get_trials()]
    assert states == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL, optuna.trial.TrialState.FAIL]
    assert load_study(config).trials[0].values == [1.0, 0.5] and not load_study(config).trials[0].intermediate_values


def test_tune_dimensions_become_the_study_s_distributions(tmp_path):
    config = build_config(TuneSettings, "tune config", data=tmp_path / "data", out=tmp_path / "tune",
                          space={**SPACE, "epochs": {"int_range": [1, 3]}, "lora_dropout": {"uniform": [0.0, 0.2]}})
    config.out.mkdir(parents=True)
    searcher = searcher_for(config)
    params = searcher.suggest("a")
    assert params["lora_r"] in (2, 4, 8) and 1 <= params["epochs"] <= 3
    distributions = load_study(config).trials[0].distributions
    assert distributions["lr"] == optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True)
    assert distributions["epochs"] == optuna.distributions.IntDistribution(1, 3)
