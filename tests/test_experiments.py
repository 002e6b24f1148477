"""The experiment scripts' configs: every shipped YAML loads; an unknown key is one clear line."""

import subprocess
import sys
from pathlib import Path

import pytest

from arcray.errors import ConfigError
from arcray.experiment import load_experiment_config

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))

import arc_distillation  # noqa: E402
import self_consistency  # noqa: E402


@pytest.mark.parametrize("module,name", [(arc_distillation, "arc_distillation.yaml"), (arc_distillation, "main_arc.yaml"),
                                         (arc_distillation, "arc_distillation_cpu.yaml"),
                                         (self_consistency, "self_consistency.yaml"), (self_consistency, "main_sc.yaml"),
                                         (self_consistency, "self_consistency_cpu.yaml"),
                                         (self_consistency, "self_consistency_1b2_cpu.yaml")])
def test_shipped_configs_load_with_and_without_smoke(module, name):
    path = ROOT / "experiments" / "configs" / name
    config = load_experiment_config(path, module.KEYS)
    assert set(config) <= set(module.KEYS)
    smoke = load_experiment_config(path, module.KEYS, module.SMOKE)
    assert smoke["train"]["epochs"] == 1
    for loaded in (config, smoke):  # every section is a valid stage config before anything runs
        resolved = module.resolve(loaded, Path("/tmp/arcray-resolve-check"))
        if not isinstance(resolved, dict):  # the ARC experiment resolves to one typed model of its stage configs
            resolved = {**resolved.model_dump(mode="json"), "train": resolved.train.model_dump(mode="json")}
        assert resolved["train"]["lora_r"] >= 1 and resolved["measure" if module is self_consistency else "collect"]


def test_unknown_key_names_the_keys(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("out: x\ntrian: {}\n")
    with pytest.raises(ConfigError, match=r"unknown key 'trian' \(did you mean 'train'\?\); the keys are out, replicates, teacher"):
        load_experiment_config(path, arc_distillation.KEYS)


def test_teacher_is_search_without_a_key_and_gemini_with_one(monkeypatch):
    config = load_experiment_config(ROOT / "experiments" / "configs" / "main_arc.yaml", arc_distillation.KEYS)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    assert arc_distillation.choose_teacher(config)["backend"] == "search"
    monkeypatch.setenv("GEMINI_API_KEY", "k")
    assert arc_distillation.choose_teacher(config)["backend"] == "gemini"


@pytest.mark.parametrize("script", ["main.py", "arc_distillation.py", "self_consistency.py", "collect.py", "tune.py", "consistency.py"])
def test_scripts_answer_help(script):
    result = subprocess.run([sys.executable, str(ROOT / "experiments" / script), "--help"], capture_output=True, text=True,
                            timeout=120, cwd=ROOT)
    assert result.returncode == 0 and "usage" in result.stdout


def write_config(tmp_path, module_name, **changes):
    import yaml

    base = yaml.safe_load((ROOT / "experiments" / "configs" / f"main_{module_name}.yaml").read_text())
    for key, value in changes.items():
        base[key] = {**base.get(key, {}), **value}
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(base))
    return path


@pytest.mark.parametrize("module,name,changes,expected", [
    (arc_distillation, "arc", {"evaluate": {"held_outt": 3}}, "evaluate: unknown key 'held_outt' (did you mean 'held_out'?)"),
    (arc_distillation, "arc", {"train": {"lr": -1}}, "train config: lr: Input should be greater than 0"),
    (arc_distillation, "arc", {"prepare": {"val_fractoin": 0.1}}, "prepare: unknown key 'val_fractoin' (did you mean 'val_fraction'?)"),
    (self_consistency, "sc", {"measure": {"temprature": 0.5}}, "measure: unknown key 'temprature' (did you mean 'temperature'?)"),
    (self_consistency, "sc", {"train": {"epochs": 0}}, "train config: epochs: Input should be greater than or equal to 1"),
    (self_consistency, "sc", {"generate": {"math": {"source": "arith", "limt": 4}}}, "unknown key 'dataset.limt' (did you mean 'limit'?)"),
])
def test_a_typo_or_bad_value_in_any_section_stops_the_run_before_the_first_stage(tmp_path, capsys, module, name, changes, expected):
    out = tmp_path / "run"
    assert module.main(["--config", str(write_config(tmp_path, name, **changes)), "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert expected in error and len(error.splitlines()) == 1, error
    assert not out.exists()  # nothing ran, nothing was written


@pytest.mark.parametrize("value", [0, "two", 2.5])
def test_replicates_must_be_a_whole_number(tmp_path, capsys, value):
    import yaml

    path = write_config(tmp_path, "sc")
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), "replicates": value}))
    assert self_consistency.main(["--config", str(path), "--out", str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err.strip()
    assert "replicates:" in error and "write e.g. replicates: 2" in error and len(error.splitlines()) == 1, error


def test_the_resolved_experiment_config_is_written_first_with_the_teacher_auto_chose(tmp_path, capsys, monkeypatch):
    import json

    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    out = tmp_path / "run"
    path = write_config(tmp_path, "arc", collect={"tasks": str(tmp_path / "no-such-tasks")})
    assert arc_distillation.main(["--config", str(path), "--out", str(out)]) == 2  # stage 1 fails on the task source
    assert "no task source" in capsys.readouterr().err
    resolved = json.loads((out / "experiment_config.json").read_text())
    first, second = resolved["replicates"]  # two held-out splits (replicates: 2), the collection shared
    assert resolved["collect"]["teacher"]["backend"] == "search" and first["train"]["lora_r"] == 16
    assert resolved["evaluate"]["held_out"] == 16 and resolved["evaluate"]["select_by"] == "train"
    assert resolved["evaluate"]["population"] == 8 and resolved["evaluate"]["grammar"] == "arcdsl"
    assert first["prepare"]["render"]["prompt"] == "compact"
    assert first["prepare"]["seed"] == 100 and first["prepare"]["sources"] == [str(out / "collect")]
    assert first["train"]["data"] == str(out / "split-100" / "data")
    assert second["prepare"]["seed"] == 101 and second["train"]["data"] == str(out / "split-101" / "data")


@pytest.mark.parametrize("value,expected", [(0, "replicates: 0 is not a whole number from 1 to 20"),
                                            ("two", "replicates: 'two' is not a whole number"),
                                            (True, "replicates: True is not")])
def test_replicates_is_a_count_of_held_out_splits(value, expected):
    config = load_experiment_config(ROOT / "experiments" / "configs" / "main_arc.yaml", arc_distillation.KEYS)
    assert arc_distillation.split_seeds({**config, "replicates": 3}) == [100, 101, 102]
    with pytest.raises(ConfigError, match=expected):
        arc_distillation.split_seeds({**config, "replicates": value})


def test_set_changes_one_value_of_an_experiment_run(tmp_path):
    """`--set train.lora_r=8`: the one place a newcomer changes the student's LoRA rank for a run."""
    config = load_experiment_config(ROOT / "experiments" / "configs" / "main_arc.yaml", arc_distillation.KEYS,
                                    overrides=["train.lora_r=8", "evaluate.student.dtype=float32", "tracking.backend=none"])
    assert config["train"]["lora_r"] == 8 and config["train"]["lora_alpha"] == 32  # the rest as the file says
    assert config["evaluate"]["student"] == {"dtype": "float32", "batch_size": 40}
    assert config["tracking"] == {"backend": "none"}
    for bad in ("train.lora_r", "=8", "train..lora_r=8", "teacher.backend=x"):
        with pytest.raises(ConfigError, match="--set"):
            load_experiment_config(ROOT / "experiments" / "configs" / "main_arc.yaml", arc_distillation.KEYS, overrides=[bad])

