"""The experiment scripts' configs: every shipped YAML loads; an unknown key is one clear line."""

import subprocess
import sys
from pathlib import Path

import pytest

from arcray.cli._common import load_experiment_config
from arcray.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))

import arc_distillation  # noqa: E402
import self_consistency  # noqa: E402


@pytest.mark.parametrize("module,name", [(arc_distillation, "arc_distillation.yaml"), (arc_distillation, "main_arc.yaml"),
                                         (self_consistency, "self_consistency.yaml"), (self_consistency, "main_sc.yaml"),
                                         (self_consistency, "self_consistency_cpu.yaml")])
def test_shipped_configs_load_with_and_without_smoke(module, name):
    path = ROOT / "experiments" / "configs" / name
    config = load_experiment_config(path, module.KEYS)
    assert set(config) <= set(module.KEYS)
    smoke = load_experiment_config(path, module.KEYS, module.SMOKE)
    assert smoke["train"]["epochs"] == 1


def test_unknown_key_names_the_keys(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("out: x\ntrian: {}\n")
    with pytest.raises(ConfigError, match="unknown key 'trian'; the keys are out, teacher"):
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
