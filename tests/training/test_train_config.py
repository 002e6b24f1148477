"""The training config and the driver's checks: one-line errors that name the fix, before any Ray work."""

import json

import pytest

from arcray.cli import main
from arcray.errors import ConfigError
from arcray.training.config import TrainConfig
from arcray.training.train import _check_resumable, preflight
from arcray.runtime.rundir import RunDir


def build(chat_data, tmp_path, **fields):
    return TrainConfig.build(data=chat_data, model="smollm2-135m", out=tmp_path / "run", **fields)


def test_defaults_are_the_plans(chat_data, tmp_path):
    config = build(chat_data, tmp_path)
    assert (config.lora_r, config.lora_alpha, config.lora_dropout) == (16, 32, 0.05)
    assert config.target_modules == ["q_proj", "v_proj"]
    assert (config.lr, config.epochs, config.batch_size, config.grad_accum) == (2e-4, 3, 4, 4)
    assert config.load_in_4bit and config.effective_batch == 16
    assert config.storage() == str((tmp_path / "run" / "ray").resolve())


def test_activation_checkpointing_where_memory_needs_it(chat_data, tmp_path):
    """On by default with a GPU or a 4-bit base; off for a full-precision base on CPU, where it only costs time."""
    from arcray.training.worker import sft_args

    assert build(chat_data, tmp_path).checkpointing()  # the plan's QLoRA
    assert build(chat_data, tmp_path, gpu=True, load_in_4bit=False).checkpointing()
    cpu = build(chat_data, tmp_path, load_in_4bit=False)
    assert not cpu.checkpointing()
    assert build(chat_data, tmp_path, load_in_4bit=False, activation_checkpointing=True).checkpointing()
    assert sft_args(cpu, str(tmp_path / "out"), on_gpu=False, evaluate=False).activation_checkpointing is False
    forced = build(chat_data, tmp_path, load_in_4bit=False, activation_checkpointing=True)
    assert sft_args(forced, str(tmp_path / "out"), on_gpu=False, evaluate=False).activation_checkpointing is True


def test_target_modules_from_a_comma_list(chat_data, tmp_path):
    assert build(chat_data, tmp_path, target_modules="q_proj, k_proj,v_proj").target_modules == ["q_proj", "k_proj", "v_proj"]


@pytest.mark.parametrize("fields, message", [
    ({"lora_rank": 8}, "unknown key 'lora_rank' (did you mean 'lora_r'?)"),
    ({"lr": 0}, "lr: Input should be greater than 0"),
    ({"lora_dropout": 1.5}, "lora_dropout"),
    ({"workers": 0}, "workers"),
])
def test_bad_fields_are_one_line(chat_data, tmp_path, fields, message):
    with pytest.raises(ConfigError) as error:
        build(chat_data, tmp_path, **fields)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_data_dir_must_be_a_prepared_one(tmp_path):
    with pytest.raises(ConfigError, match="has no dataset/; pass the --out of `arcray prepare`"):
        TrainConfig.build(data=tmp_path, model="smollm2-135m", out=tmp_path / "run")


def test_unknown_target_module_names_the_real_ones(chat_data, tiny_base, tmp_path):
    config = TrainConfig.build(data=chat_data, model=str(tiny_base), out=tmp_path / "run", target_modules="q_prj")
    with pytest.raises(ConfigError, match=r"'q_prj' is not a linear layer .*did you mean 'q_proj'.*k_proj"):
        preflight(config)


def test_a_run_dir_resumes_only_with_the_same_adapter_shape(chat_data, tmp_path):
    config = build(chat_data, tmp_path)
    run = RunDir(config.out)
    run.write_config(config.model_dump(mode="json"))
    (config.out / "ray" / "train").mkdir(parents=True)
    _check_resumable(run, build(chat_data, tmp_path, epochs=5))  # more epochs: fine
    with pytest.raises(ConfigError, match="lora_r=16.*pass another --out"):
        _check_resumable(run, build(chat_data, tmp_path, lora_r=8))


def test_cli_reports_config_errors_in_one_line(chat_data, tmp_path, capsys):
    code = main(["train", "--data", str(chat_data), "--model", "smollm2-135m", "--out", str(tmp_path / "run"), "--lora-dropout", "2"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("arcray train: error: train config: lora_dropout") and "\n" not in err


def test_cli_reads_a_yaml_config_and_flags_win(chat_data, tmp_path, monkeypatch):
    seen = {}

    def fake_run_training(config):
        seen["config"] = config
        return {"best": {"epoch": 1, "eval_loss": 1.0}, "final": {"train_loss": 1.0, "eval_loss": 1.0, "seconds_per_step": 0.1},
                "data": {"train_examples": 1, "validation_examples": 1}, "steps": 1, "effective_batch": 1,
                "adapter": "a", "merged": None}

    monkeypatch.setattr("arcray.training.train.run_training", fake_run_training)
    yaml_path = tmp_path / "train.yaml"
    yaml_path.write_text("lora_r: 8\nepochs: 5\nlr: 0.001\n")
    code = main(["train", "--data", str(chat_data), "--model", "m", "--out", str(tmp_path / "run"), "--config", str(yaml_path),
                 "--epochs", "2", "--no-4bit", "--target-modules", "q_proj,k_proj"])
    config = seen["config"]
    assert code == 0
    assert (config.lora_r, config.epochs, config.lr, config.load_in_4bit) == (8, 2, 0.001, False)
    assert config.target_modules == ["q_proj", "k_proj"] and json.loads(config.model_dump_json())["model"] == "m"
