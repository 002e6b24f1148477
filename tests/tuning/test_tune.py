"""Ray Tune + Optuna on a tiny model and tiny data, on the local CPU Ray."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import optuna
import pytest
import yaml
from ray import tune

from arcray.errors import ConfigError
from arcray.tuning.config import TuneSettings
from arcray.tuning.run import build_missing_data, max_epochs, preflight, run_tune
from arcray.tuning.study import TUNE_TRIAL, study_name
from arcray.validation import build_config

FAST_TRAIN = {"batch_size": 4, "grad_accum": 1, "load_in_4bit": False, "max_length": 128, "merge": False}
SMALL_SPACE = {"lora_r": {"choice": [2, 4]}, "lr": {"loguniform": [1e-4, 1e-2]}, "epochs": {"choice": [1, 2]}}


def settings(tmp_path, tiny_base, chat_data, **extra):
    fields = {"data": chat_data, "model": str(tiny_base), "train": FAST_TRAIN, "space": SMALL_SPACE,
              "num_samples": 3, "out": tmp_path / "tune", "tracking": {"backend": "none"}, **extra}
    return build_config(TuneSettings, "tune config", **fields)


def the_study(config: TuneSettings) -> optuna.Study:
    """The study as optuna-dashboard opens it: by name, through a connection of its own."""
    return optuna.load_study(study_name=study_name(config), storage=optuna.storages.RDBStorage(config.optuna_url()))


class WatchStudy(tune.Callback):
    """At each epoch's report (Tune tells the searcher first), what the study on disk shows of that trial."""

    def __init__(self, config: TuneSettings) -> None:
        self.config, self.seen = config, []

    def on_trial_result(self, iteration, trials, trial, result, **info):
        if "epoch" not in result:
            return  # the trial's final report (its evaluation), not an epoch
        study = the_study(self.config)
        mine = [t for t in study.get_trials() if t.user_attrs.get(TUNE_TRIAL) == trial.trial_id]
        self.seen.append({"epoch": round(result["epoch"]), "eval_loss": result["eval_loss"], "metric_names": study.metric_names,
                          "found": len(mine), "state": mine[0].state if mine else None,
                          "intermediate": dict(mine[0].intermediate_values) if mine else {}})


def assert_numbered_in_start_order(trials: list) -> None:
    """Optuna numbers follow the order trials started; each has real start and end times (one at a time here)."""
    assert [t.number for t in trials] == list(range(len(trials)))
    for trial in trials:
        assert trial.datetime_start < trial.datetime_complete
    for before, after in zip(trials, trials[1:]):
        assert before.datetime_complete <= after.datetime_start


def test_three_trials_pick_the_best_by_the_objective(local_ray, tmp_path, tiny_base, chat_data):
    config = settings(tmp_path, tiny_base, chat_data, seed=3, tracking={"backend": "mlflow"})  # embedded, per trial
    watch = WatchStudy(config)
    summary = run_tune(config, callbacks=[watch])
    assert summary["trials"] == 3 and summary["errored"] == 0
    measured = [r for r in summary["rows"] if r.get("eval_loss") is not None and r["status"] == "done"]
    assert summary["best"]["eval_loss"] == min(r["eval_loss"] for r in measured)
    assert (config.out / "best_adapter" / "adapter_config.json").is_file()
    assert (config.out / "mlflow.db").is_file()  # tune_callbacks: one tracked run per trial

    # While the search ran, the study on disk held each trial, RUNNING, with its epochs' values, under the metric's name.
    assert watch.seen and all(s["found"] == 1 and s["metric_names"] == ["eval_loss"] for s in watch.seen)
    assert all(s["state"] == optuna.trial.TrialState.RUNNING for s in watch.seen)
    assert any(s["intermediate"].get(s["epoch"]) == pytest.approx(s["eval_loss"]) for s in watch.seen)

    study = the_study(config)
    trials = study.get_trials()
    assert study.metric_names == ["eval_loss"] and len(trials) == 3
    assert_numbered_in_start_order(trials)
    assert [r["number"] for r in summary["rows"]] == [0, 1, 2]  # the report lists trials as they started
    assert [r["trial"] for r in summary["rows"]] == [t.user_attrs[TUNE_TRIAL] for t in trials]
    for trial, row in zip(trials, summary["rows"]):
        assert trial.params["lora_r"] == row["lora_r"] and trial.intermediate_values
        assert set(trial.intermediate_values) <= set(range(1, row["epochs"] + 1))
        if row["status"] == "done":
            assert trial.state == optuna.trial.TrialState.COMPLETE and trial.value == pytest.approx(row["eval_loss"])
            assert len(trial.intermediate_values) == row["epochs"]  # one value per epoch
        else:  # ASHA stopped it: pruned, at its last epoch's value
            assert trial.state == optuna.trial.TrialState.PRUNED

    report = (config.out / "report.md").read_text()
    assert "## Best configuration" in report
    plots = ["history_eval_loss.png", "intermediate_values.png", "parallel_coordinate.png"]
    if sum(t.state == optuna.trial.TrialState.COMPLETE for t in trials) >= 2:
        plots.append("importances_eval_loss.png")
    for name in plots:  # drawn by optuna.visualization, and shown in the report
        assert (config.out / "plots" / name).stat().st_size > 1000 and f"plots/{name}" in report


def compact_copy(chat_data, target):
    """The prepared data with its recorded prompt style changed to compact (the training examples stay)."""
    shutil.copytree(chat_data, target)
    manifest = target / "manifest.json"
    if manifest.is_file():
        recorded = json.loads(manifest.read_text())
        recorded["exports"]["render"] = {**recorded["exports"].get("render", {}), "prompt": "compact"}
        manifest.write_text(json.dumps(recorded))
    else:  # a prepare from before manifests: stats.json records the config
        stats = json.loads((target / "stats.json").read_text())
        stats["config"]["render"]["prompt"] = "compact"
        (target / "stats.json").write_text(json.dumps(stats))
    return target


def evaluated_prompt(arc_run) -> str:
    recorded = json.loads((arc_run / "manifest.json").read_text())["config"] if (arc_run / "manifest.json").is_file() \
        else json.loads((arc_run / "config.json").read_text())
    return recorded["render"]["prompt"]


def test_multi_objective_search_returns_a_pareto_set(local_ray, tmp_path, tiny_base, chat_data):
    data = compact_copy(chat_data, tmp_path / "compact-data")
    config = settings(tmp_path, tiny_base, data, num_samples=2, max_concurrent=2,  # both at once, one CPU each
                      objectives=[{"metric": "eval_loss"}, {"metric": "arc_runnable"}],
                      arc={"tasks": "arc1/train", "limit": 1, "max_generations": 1, "population": 1, "max_new_tokens": 16})
    assert not config.use_asha  # not sound with two objectives
    summary = run_tune(config)
    front = summary["pareto"]
    assert front and summary["best"] is None
    assert all(r.get("arc_runnable") is not None and r.get("eval_loss") is not None for r in front)
    losses = [r["eval_loss"] for r in summary["rows"] if r.get("eval_loss") is not None]
    assert min(losses) in [r["eval_loss"] for r in front]  # the lowest loss is never dominated
    report = (config.out / "report.md").read_text()
    assert "## Pareto set" in report and "plots/pareto_front.png" in report
    assert (config.out / "plots" / "pareto_front.png").stat().st_size > 1000
    study = the_study(config)
    assert study.metric_names == ["eval_loss", "arc_runnable"]
    assert [d.name for d in study.directions] == ["MINIMIZE", "MAXIMIZE"]
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    # Every trial scored its student on the prompt the data was rendered with, not the default full one.
    arc_runs = sorted(config.out.glob("trials/*/arc"))
    assert len(arc_runs) == 2 and {evaluated_prompt(run) for run in arc_runs} == {"compact"}


def test_bad_settings_are_refused_up_front(tmp_path, tiny_base, chat_data):
    with pytest.raises(ConfigError, match="did you mean 'arc_fitness'"):
        settings(tmp_path, tiny_base, chat_data, objectives=[{"metric": "arc_fitnes"}])
    with pytest.raises(ConfigError, match="needs an 'arc' evaluation section"):
        settings(tmp_path, tiny_base, chat_data, objectives=[{"metric": "arc_fitness"}])
    with pytest.raises(ConfigError, match="ASHA needs one objective"):
        settings(tmp_path, tiny_base, chat_data, objectives=[{"metric": "eval_loss"}, {"metric": "arc_runnable"}],
                 arc={}, asha={"enabled": True})


def test_training_problems_are_caught_before_any_trial(tmp_path, tiny_base, chat_data):
    with pytest.raises(ConfigError, match="holds no prepared dataset.*build_data section"):
        preflight(settings(tmp_path, tiny_base, tmp_path / "nothing-here"))
    with pytest.raises(ConfigError, match="with lora_r=0: lora_r: Input should be greater than or equal to 1"):
        preflight(settings(tmp_path, tiny_base, chat_data, space={"lora_r": {"choice": [4, 0]}}))
    with pytest.raises(ConfigError, match="'qproj' is not a linear layer.*did you mean 'q_proj'"):
        preflight(settings(tmp_path, tiny_base, chat_data, train={**FAST_TRAIN, "target_modules": ["qproj"]}))
    relative = settings(tmp_path, tiny_base, chat_data, out="runs/x")
    assert relative.out.is_absolute()  # trials run in their own folders
    preflight(settings(tmp_path, tiny_base, chat_data))  # a sound search passes


def test_missing_data_is_built_from_the_recipe(local_ray, tmp_path, tiny_base):
    recipe = {"tasks": "arc1/train", "limit": 4, "teacher": {"backend": "search", "max_expansions": 5000}}
    wanted = settings(tmp_path, tiny_base, tmp_path / "built" / "data", build_data=recipe)
    build_missing_data(wanted)
    assert (wanted.data / "dataset" / "dataset_dict.json").is_file()
    assert len((tmp_path / "built" / "collect" / "attempts.jsonl").read_text().splitlines()) == 4
    stats = wanted.data / "stats.json"
    before = stats.stat().st_mtime_ns
    build_missing_data(wanted)  # there now: not built again
    assert stats.stat().st_mtime_ns == before


def test_killed_search_is_restored_without_rerunning_finished_trials(tmp_path, tiny_base, chat_data):
    out = tmp_path / "tune"
    config_path = tmp_path / "tune.yaml"
    config_path.write_text(yaml.safe_dump({"data": str(chat_data), "model": str(tiny_base), "train": FAST_TRAIN,
                                           # one epoch a trial: restoring does not depend on how long a trial is
                                           "space": {**SMALL_SPACE, "epochs": {"choice": [1]}}, "num_samples": 2,
                                           "seed": 1, "out": str(out), "asha": {"enabled": False}}))
    command = [sys.executable, "-m", "arcray", "tune", "--config", str(config_path)]
    driver = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                              env={**os.environ, "RAY_ADDRESS": ""})
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline and driver.poll() is None:
        if len(list(out.glob("trials/*/metrics.json"))) >= 1:
            break
        time.sleep(1)
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait()
    finished_before = {p.parent.name for p in out.glob("trials/*/metrics.json")}
    assert len(finished_before) == 1  # killed after the first trial, before the second finished

    result = subprocess.run(command + ["--json"], capture_output=True, text=True, timeout=900, env={**os.environ, "RAY_ADDRESS": ""})
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads([line for line in result.stdout.splitlines() if line.startswith('{"trials"')][-1])
    assert summary["trials"] == 2 and summary["errored"] == 0
    for name in finished_before:  # a finished trial's training and evaluation never ran again
        assert len((out / "trials" / name / "work.jsonl").read_text().splitlines()) == 1
    assert len(list(out.glob("trials/*/metrics.json"))) == 2
    # The study, written live by the killed driver and then by the restored one, holds each trial once.
    config = build_config(TuneSettings, "tune config", **yaml.safe_load(config_path.read_text()))
    trials = the_study(config).get_trials()
    assert len(trials) == 2 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert len({t.user_attrs[TUNE_TRIAL] for t in trials}) == 2
    assert_numbered_in_start_order(trials)
    rows = json.loads((out / "summary.json").read_text())["rows"]
    assert [r["number"] for r in rows] == [0, 1] and all(t.intermediate_values for t in trials)


def test_asha_horizon_covers_every_kind_of_epochs_dimension(tmp_path, tiny_base, chat_data):
    space = {**SMALL_SPACE, "epochs": {"int_range": [1, 6]}}
    assert max_epochs(settings(tmp_path, tiny_base, chat_data, space=space)) == 6  # was capped at 3 (+1)
    assert max_epochs(settings(tmp_path, tiny_base, chat_data)) == 2
    no_epochs = {k: v for k, v in SMALL_SPACE.items() if k != "epochs"}
    assert max_epochs(settings(tmp_path, tiny_base, chat_data, space=no_epochs, train={**FAST_TRAIN, "epochs": 5})) == 5
