"""Ray Tune + Optuna on a tiny model and tiny data, on the local CPU Ray."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
import yaml

from arcray.errors import ConfigError
from arcray.tuning.config import TuneSettings
from arcray.tuning.run import build_missing_data, export_study, max_epochs, preflight, run_tune
from arcray.validation import build_config

FAST_TRAIN = {"batch_size": 4, "grad_accum": 1, "load_in_4bit": False, "max_length": 128, "merge": False}
SMALL_SPACE = {"lora_r": {"choice": [2, 4]}, "lr": {"loguniform": [1e-4, 1e-2]}, "epochs": {"choice": [1, 2]}}


def settings(tmp_path, tiny_base, chat_data, **extra):
    fields = {"data": chat_data, "model": str(tiny_base), "train": FAST_TRAIN, "space": SMALL_SPACE,
              "num_samples": 3, "out": tmp_path / "tune", **extra}
    return build_config(TuneSettings, "tune config", **fields)


def optuna_trials(url: str) -> int:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        return db.execute("select count(*) from trials").fetchone()[0]


def test_three_trials_pick_the_best_by_the_objective(local_ray, tmp_path, tiny_base, chat_data):
    config = settings(tmp_path, tiny_base, chat_data, seed=3)
    summary = run_tune(config)
    assert summary["trials"] == 3 and summary["errored"] == 0
    measured = [r for r in summary["rows"] if r.get("eval_loss") is not None and r["status"] == "done"]
    assert summary["best"]["eval_loss"] == min(r["eval_loss"] for r in measured)
    assert (config.out / "best_adapter" / "adapter_config.json").is_file()
    report = (config.out / "report.md").read_text()
    assert "## Best configuration" in report and "history_eval_loss.png" in report
    assert (config.out / "plots" / "eval_loss_vs_lr.png").stat().st_size > 1000
    assert optuna_trials(config.optuna_url()) == 3  # optuna-dashboard can open the same study


def test_multi_objective_search_returns_a_pareto_set(local_ray, tmp_path, tiny_base, chat_data):
    config = settings(tmp_path, tiny_base, chat_data, num_samples=2,
                      objectives=[{"metric": "eval_loss"}, {"metric": "arc_runnable"}],
                      arc={"tasks": "arc1/train", "limit": 1, "max_generations": 1, "population": 1, "max_new_tokens": 16})
    assert not config.use_asha  # not sound with two objectives
    summary = run_tune(config)
    front = summary["pareto"]
    assert front and summary["best"] is None
    assert all(r.get("arc_runnable") is not None and r.get("eval_loss") is not None for r in front)
    losses = [r["eval_loss"] for r in summary["rows"] if r.get("eval_loss") is not None]
    assert min(losses) in [r["eval_loss"] for r in front]  # the lowest loss is never dominated
    assert "## Pareto set" in (config.out / "report.md").read_text()


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
    recipe = {"tasks": "arc1/train", "limit": 4, "teacher": {"backend": "search", "time_budget_s": 1.0}}
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
                                           "space": SMALL_SPACE, "num_samples": 3, "seed": 1, "out": str(out),
                                           "asha": {"enabled": False}}))
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
    assert 1 <= len(finished_before) < 3

    result = subprocess.run(command + ["--json"], capture_output=True, text=True, timeout=900, env={**os.environ, "RAY_ADDRESS": ""})
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads([line for line in result.stdout.splitlines() if line.startswith('{"trials"')][-1])
    assert summary["trials"] == 3 and summary["errored"] == 0
    for name in finished_before:  # a finished trial's training and evaluation never ran again
        assert len((out / "trials" / name / "work.jsonl").read_text().splitlines()) == 1
    assert len(list(out.glob("trials/*/metrics.json"))) == 3


def test_asha_horizon_covers_every_kind_of_epochs_dimension(tmp_path, tiny_base, chat_data):
    space = {**SMALL_SPACE, "epochs": {"int_range": [1, 6]}}
    assert max_epochs(settings(tmp_path, tiny_base, chat_data, space=space)) == 6  # was capped at 3 (+1)
    assert max_epochs(settings(tmp_path, tiny_base, chat_data)) == 2
    no_epochs = {k: v for k, v in SMALL_SPACE.items() if k != "epochs"}
    assert max_epochs(settings(tmp_path, tiny_base, chat_data, space=no_epochs, train={**FAST_TRAIN, "epochs": 5})) == 5


def test_the_optuna_study_grows_with_each_run_instead_of_being_rebuilt(tmp_path, tiny_base, chat_data):
    import optuna

    config = settings(tmp_path, tiny_base, chat_data)
    config.out.mkdir(parents=True)  # run_tune makes it before it exports
    row = {"status": "done", "lora_r": 2, "lr": 1e-3, "epochs": 1, "eval_loss": 1.5}
    export_study(config, [{**row, "trial": "a"}])
    study_name = optuna.get_all_study_names(config.optuna_url())[0]
    first = optuna.load_study(study_name=study_name, storage=config.optuna_url()).trials[0]
    export_study(config, [{**row, "trial": "a"}, {**row, "trial": "b", "lora_r": 4, "eval_loss": 1.2}])
    trials = optuna.load_study(study_name=study_name, storage=config.optuna_url()).trials
    assert [t.user_attrs["trial"] for t in trials] == ["a", "b"]
    assert trials[0]._trial_id == first._trial_id  # the earlier trial was kept, not re-made
