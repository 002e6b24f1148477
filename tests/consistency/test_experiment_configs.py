"""The experiment script's configs validate before any work (what `ray job submit` would run)."""

import importlib.util
from pathlib import Path

import pytest

from arcray.errors import ConfigError
from arcray.experiment import load_yaml_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("consistency_experiment", ROOT / "experiments" / "consistency.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "experiments" / "configs").glob("consistency_*.yaml")))
def test_configs_validate(script, name):
    raw = load_yaml_config(ROOT / "experiments" / "configs" / name)
    stage, configs = script.stage_configs(raw, smoke=False)
    assert stage in script.STAGES and set(configs) == {"math", "code"}
    assert configs["math"].out == Path(raw["out"]) / "math"
    _, smoke = script.stage_configs(raw, smoke=True)
    assert all(c.dataset.limit == 2 and c.max_new_tokens == 16 for c in smoke.values())


def test_bad_experiment_config(script):
    with pytest.raises(ConfigError, match="needs 'out' and 'runs"):
        script.stage_configs({"student": {"backend": "hf"}}, smoke=False)
    with pytest.raises(ConfigError, match="stage 'measure'"):
        script.stage_configs({"stage": "measure", "runs": {"a": {}}, "out": "x"}, smoke=False)
