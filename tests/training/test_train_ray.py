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
