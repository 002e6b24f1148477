"""The local Hugging Face backend on a tiny random Llama built in the tests (fast)."""

from __future__ import annotations

import pytest

from arcray.errors import ConfigError
from arcray.llm import SamplingParams, get_backend
from tests.llm.tiny_models import build_tiny_llama

PROMPTS = ["hello world", "the quick brown fox jumps over the lazy dog and then some more", "two"]


def texts(rows):
    return [[c.text for c in row] for row in rows]


def test_greedy_is_identical_across_calls_and_samples(tiny_backend):
    params = SamplingParams(n=3, temperature=0.0, max_new_tokens=12)
    first = tiny_backend.generate(PROMPTS, params)
    second = tiny_backend.generate(PROMPTS, params)
    assert texts(first) == texts(second)
    for row in first:
        assert len(row) == 3 and len({c.text for c in row}) == 1
        assert all(c.ok and c.finish_reason == "length" and c.completion_tokens == 12 for c in row)


def test_left_padding_batched_equals_one_at_a_time(tiny_backend):
    params = SamplingParams(max_new_tokens=10)
    batched = texts(tiny_backend.generate(PROMPTS, params))
    alone = [texts(tiny_backend.generate([prompt], params))[0] for prompt in PROMPTS]
    assert batched == alone


def test_seeded_sampling_is_reproducible(tiny_backend):
    params = SamplingParams(n=5, temperature=0.7, max_new_tokens=10, seed=123)
    first = texts(tiny_backend.generate(PROMPTS, params))
    assert first == texts(tiny_backend.generate(PROMPTS, params))
    assert first != texts(tiny_backend.generate(PROMPTS, params.model_copy(update={"seed": 124})))
    assert all(len(set(row)) > 1 for row in first)  # n samples, not n copies
    extended = texts(tiny_backend.generate(PROMPTS, params, first_sample=5))
    assert extended != first  # later samples are new draws, not a replay of samples 0..4


def test_prompt_tokens_and_chat_template(tiny_backend):
    chat = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}]
    [[completion]] = tiny_backend.generate([chat], SamplingParams(max_new_tokens=4))
    rendered = "<|system|>be brief</s><|user|>hello</s><|assistant|>"
    assert completion.prompt_tokens == len(tiny_backend.tokenizer(rendered, add_special_tokens=False)["input_ids"])
    assert completion.completion_tokens == 4


def test_stop_strings_cut_the_text(tiny_backend):
    params = SamplingParams(max_new_tokens=24)
    [[full]] = tiny_backend.generate(["hello world"], params)
    stop = full.text[len(full.text) // 2 :][:3]
    assert stop.strip(), f"want a visible stop string from {full.text!r}"
    [[cut]] = tiny_backend.generate(["hello world"], params.model_copy(update={"stop": (stop,)}))
    assert cut.text == full.text[: full.text.find(stop)]
    assert cut.finish_reason == "stop" and cut.completion_tokens < full.completion_tokens


def test_end_of_sequence_and_ignore_eos(eos_llama):
    with get_backend("hf", model=str(eos_llama)) as backend:
        [[stopped]] = backend.generate(["hello"], SamplingParams(max_new_tokens=8))
        [[forced]] = backend.generate(["hello"], SamplingParams(max_new_tokens=8, ignore_eos=True))
    assert stopped.text == "" and stopped.finish_reason == "stop" and stopped.completion_tokens == 1
    assert forced.finish_reason == "length" and forced.completion_tokens == 8


def test_lora_adapter_loads_on_top_of_the_base(tiny_llama, tiny_backend, tmp_path):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    base = AutoModelForCausalLM.from_pretrained(tiny_llama)
    lora = LoraConfig(r=4, lora_alpha=16, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(base, lora).save_pretrained(tmp_path / "adapter")

    params = SamplingParams(max_new_tokens=12)
    with get_backend("hf", model=str(tiny_llama), adapter=tmp_path / "adapter") as tuned:
        assert tuned.identity["adapter"]["path"] == str(tmp_path / "adapter")
        assert texts(tuned.generate(PROMPTS, params)) != texts(tiny_backend.generate(PROMPTS, params))


def test_4bit_loading(tmp_path):
    pytest.importorskip("bitsandbytes")
    folder = build_tiny_llama(tmp_path / "tiny-64", hidden_size=64)  # 4-bit blocks need 64 columns
    with get_backend("hf", model=str(folder), load_in_4bit=True) as backend:
        assert "Linear4bit" in {type(m).__name__ for m in backend.model.modules()}
        [[completion]] = backend.generate(["hello"], SamplingParams(max_new_tokens=5))
    assert completion.ok and completion.completion_tokens == 5


def test_model_names_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="did you mean 'smollm2-135m'"):
        get_backend("hf", model="smollm2-135")
    with pytest.raises(ConfigError, match="does not exist"):
        get_backend("hf", model=str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="no config.json"):
        get_backend("hf", model=str(tmp_path))
    with pytest.raises(ConfigError, match="adapter_config.json"):
        get_backend("hf", model=str(tmp_path), adapter=tmp_path)


def test_the_in_place_cache_samples_what_the_concatenating_one_does(tiny_backend, monkeypatch):
    import arcray.llm.hf as hf

    params = SamplingParams(n=4, temperature=0.9, max_new_tokens=12, seed=7, ignore_eos=True)
    in_place = texts(tiny_backend.generate(PROMPTS, params))
    monkeypatch.setattr(hf, "_grow_in_place", lambda cache, room: None)  # transformers' own DynamicCache throughout
    assert texts(tiny_backend.generate(PROMPTS, params)) == in_place
    longer = params.model_copy(update={"max_new_tokens": 20})
    concatenated = texts(tiny_backend.generate(PROMPTS, longer))
    monkeypatch.undo()
    assert texts(tiny_backend.generate(PROMPTS, longer)) == concatenated
