"""QLoRA on a real local Ray Train: weights move, a worker failure and a re-run both resume, merging is exact."""

import json

import pytest

from arcray.cli import main
from arcray.training.config import TrainConfig
from arcray.training.train import run_training

STEPS_PER_EPOCH = 6  # 12 train examples, batch 2, no accumulation


def fail_once_after_first_epoch(marker):
    """A callback that kills its worker at the start of epoch 2, once (the marker survives the restart)."""
    from transformers import TrainerCallback

    class FailOnce(TrainerCallback):
        def on_epoch_begin(self, args, state, control, **kwargs):
            if state.global_step >= STEPS_PER_EPOCH and not marker.exists():
                marker.touch()
                raise RuntimeError("injected worker failure")

    return FailOnce()


@pytest.fixture(scope="module")
def trained(local_ray, chat_data, tiny_base, tmp_path_factory):
    out = tmp_path_factory.mktemp("train-run")
    config = TrainConfig.build(data=chat_data, model=str(tiny_base), out=out, epochs=2, batch_size=2, grad_accum=1,
                               lr=1e-2, load_in_4bit=True, max_failures=1)
    summary = run_training(config, callbacks=[fail_once_after_first_epoch(out / "failed-once")])
    return config, summary


def test_training_survives_a_worker_failure_from_its_checkpoint(trained):
    config, summary = trained
    assert (config.out / "failed-once").exists()
    assert summary["resumed_from_steps"] == [STEPS_PER_EPOCH]
    assert summary["steps"] == 2 * STEPS_PER_EPOCH
    epochs = [json.loads(line) for line in (config.out / "metrics.jsonl").read_text().splitlines()]
    assert [e["step"] for e in epochs] == [STEPS_PER_EPOCH, 2 * STEPS_PER_EPOCH]


def test_outputs_and_history(trained):
    config, summary = trained
    out = config.out
    for name in ("adapter/adapter_config.json", "adapter/adapter_model.safetensors", "adapter/tokenizer.json",
                 "merged/config.json", "merged/model.safetensors", "merged/tokenizer.json", "config.json", "summary.json"):
        assert (out / name).is_file(), name
    assert not (out / "adapter" / "optimizer.pt").exists()
    resolved = json.loads((out / "config.json").read_text())
    assert resolved["lora_r"] == 16
    assert resolved["cpus_per_worker"] == 2.0  # None resolves to the local Ray's 2 CPUs for the one CPU worker
    history = json.loads((out / "history.json").read_text())
    assert [e["epoch"] for e in history["epochs"]] == [1.0, 2.0]
    assert all(e["eval_loss"] > 0 and e["train_loss"] > 0 for e in history["epochs"])
    assert [s["step"] for s in history["steps"]] == list(range(1, 2 * STEPS_PER_EPOCH + 1))
    best = min(history["epochs"], key=lambda e: e["eval_loss"])
    assert summary["best"]["eval_loss"] == best["eval_loss"] and summary["best"]["step"] == best["step"]
    assert summary["data"]["train_examples"] == 12 and summary["data"]["validation_examples"] == 4
    assert str(out / "ray") == summary["storage_path"]


def test_lora_weights_moved(trained):
    from safetensors.torch import load_file

    config, _ = trained
    weights = load_file(config.out / "adapter" / "adapter_model.safetensors")
    lora_b = {name: w for name, w in weights.items() if "lora_B" in name}
    assert lora_b and all(float(w.abs().max()) > 0 for w in lora_b.values())  # PEFT starts every B at zero


def test_adapter_loads_through_the_generation_interface_and_merging_is_exact(trained, tiny_base):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from arcray.llm import SamplingParams, get_backend

    config, _ = trained
    prompt = [{"role": "system", "content": "answer briefly"}, {"role": "user", "content": "what is 2 plus 3?"}]
    greedy = SamplingParams(max_new_tokens=12, temperature=0)
    with get_backend("hf", model=str(tiny_base), adapter=config.out / "adapter", device="cpu") as backend:
        [[with_adapter]] = backend.generate([prompt], greedy)
        ids = torch.tensor([backend._encode(tuple(prompt))])
    with get_backend("hf", model=str(config.out / "merged"), device="cpu") as backend:
        [[merged]] = backend.generate([prompt], greedy)
    assert with_adapter.text == merged.text and merged.completion_tokens > 0

    unmerged = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_base), config.out / "adapter").eval()
    folded = AutoModelForCausalLM.from_pretrained(config.out / "merged").eval()
    base = AutoModelForCausalLM.from_pretrained(tiny_base).eval()
    with torch.no_grad():
        expected, got, before = (m(ids).logits for m in (unmerged, folded, base))
        assert torch.allclose(expected, got, atol=1e-5)
        assert not torch.allclose(before, got, atol=1e-3)  # the adapter changed the model
        steps = dict(max_new_tokens=12, do_sample=False, pad_token_id=1)
        assert torch.equal(unmerged.generate(input_ids=ids, **steps), folded.generate(input_ids=ids, **steps))


def test_rerun_with_more_epochs_continues_from_the_last_checkpoint(trained, capsys):
    config, _ = trained
    code = main(["train", "--data", str(config.data), "--model", config.model, "--out", str(config.out), "--epochs", "3",
                 "--batch-size", "2", "--grad-accum", "1", "--lr", "1e-2", "--max-failures", "1", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 3 * STEPS_PER_EPOCH
    assert 2 * STEPS_PER_EPOCH in summary["resumed_from_steps"]
    epochs = [json.loads(line) for line in (config.out / "metrics.jsonl").read_text().splitlines()]
    assert [e["step"] for e in epochs] == [6, 12, 18]
    assert epochs[-1]["resumed_from_step"] == 2 * STEPS_PER_EPOCH
    assert (config.out / "config.json.1").exists()  # the first run's config, kept beside the new one


def test_the_adapter_carries_a_card_and_names_its_base_by_hub_id(trained, tmp_path):
    from arcray.cards import write_adapter_card

    config, _ = trained
    adapter = config.out / "adapter"
    card = (adapter / "README.md").read_text()
    summary = json.loads((config.out / "summary.json").read_text())
    assert card.startswith("---\n") and "library_name: peft" in card
    assert "More Information Needed" not in card  # not PEFT's empty template
    assert f"{summary['best']['eval_loss']:.4g}" in card and "| lora_r | 16 |" in card
    assert "self-consistency" in card  # the data it was trained on, read from the prepare run's manifest
    # a local folder that names no hub id keeps its path; the embedded alias names its hub id and its conversion
    assert json.loads((adapter / "adapter_config.json").read_text())["base_model_name_or_path"] == str(config.model)
    copy = tmp_path / "adapter"
    copy.mkdir()
    (copy / "adapter_config.json").write_text((adapter / "adapter_config.json").read_text())
    write_adapter_card(copy, model="smollm2-135m", config=config.model_dump(mode="json"), summary=summary)
    assert json.loads((copy / "adapter_config.json").read_text())["base_model_name_or_path"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    text = (copy / "README.md").read_text()
    assert "base_model: HuggingFaceTB/SmolLM2-135M-Instruct" in text and "Q4_1.gguf" in text and "de-quantized" in text


def test_the_dataset_carries_a_card(chat_data):
    card = (chat_data / "README.md").read_text()
    assert card.startswith("---\n") and "task_categories:" in card
    assert "train: 12 examples, validation: 4" in card and "sc.jsonl" in card


def test_hub_push_sends_the_adapter_and_its_card_to_a_hub(trained, monkeypatch, capsys):
    """A real push through huggingface_hub to a fake hub on 127.0.0.1; the run directory is left as it was."""
    from tests.fake_hub import FakeHub

    config, _ = trained
    token = "hf_fake_token_for_the_test_81c2"
    monkeypatch.setenv("HF_TOKEN", token)
    before = {p.name: p.read_bytes() for p in (config.out / "adapter").iterdir()}
    with FakeHub() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        assert main(["hub", "push", str(config.out), "--repo", "me/tiny-student", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["pushed"] and result["repo_type"] == "model"
    assert not hub.unexpected and "me/tiny-student" in hub.repos
    pushed = hub.files["me/tiny-student"]
    assert {"README.md", "adapter_config.json", "adapter_model.safetensors"} <= set(pushed)
    assert pushed["adapter_model.safetensors"] == before["adapter_model.safetensors"]
    assert all(headers.get("authorization") == f"Bearer {token}" for _, _, headers in hub.requests)
    assert not any(token.encode() in content for content in pushed.values())
    assert {p.name: p.read_bytes() for p in (config.out / "adapter").iterdir()} == before


def test_hub_push_of_a_dataset_without_a_token_is_one_line(chat_data, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", "")
    monkeypatch.setenv("HF_HOME", str(chat_data.parent / "no-hf-home"))  # no stored login either
    assert main(["hub", "push", str(chat_data), "--repo", "me/data", "--dry-run", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert listed["repo_type"] == "dataset" and {"README.md", "train.jsonl", "validation.jsonl"} <= set(listed["files"])
    assert main(["hub", "push", str(chat_data), "--repo", "me/data"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "HF_TOKEN" in err[0] and "Traceback" not in err[0]
