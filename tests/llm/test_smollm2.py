"""The embedded default model, SmolLM2-135M-Instruct, converted once from its GGUF and run on CPU."""

from __future__ import annotations

import pytest

from arcray.cli import main
from arcray.llm import SamplingParams, get_backend
from arcray.llm.smollm2 import converted_dir

QUESTION = [{"role": "user", "content": "What is 2+3?"}]


@pytest.fixture(scope="module")
def smollm2():
    pytest.importorskip("gguf")
    backend = get_backend("hf", model="smollm2-135m")  # converts into $ARCRAY_CACHE_DIR the first time
    yield backend
    backend.close()


def test_greedy_output_is_identical_across_calls(smollm2):
    params = SamplingParams(max_new_tokens=12)
    first = smollm2.generate([QUESTION, "The capital of France is"], params)
    second = smollm2.generate([QUESTION, "The capital of France is"], params)
    assert [r[0].text for r in first] == [r[0].text for r in second]
    assert "5" in first[0][0].text


def test_seeded_samples_are_reproducible(smollm2):
    params = SamplingParams(n=3, temperature=0.7, max_new_tokens=12, seed=7)
    first = [c.text for c in smollm2.generate([QUESTION], params)[0]]
    assert first == [c.text for c in smollm2.generate([QUESTION], params)[0]]
    assert len(set(first)) > 1


def test_the_converted_folder_is_a_plain_hf_model(smollm2):
    folder = converted_dir()
    assert smollm2.model_path == str(folder)
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()
    assert smollm2.tokenizer.chat_template and smollm2.model.config.to_dict().get("quantization_config") is None


def test_generate_cli_on_smollm2(smollm2, capsys):
    assert main(["generate", "--backend", "hf", "--model", "smollm2-135m", "--prompt", "What is 2+3?"]) == 0
    assert "5" in capsys.readouterr().out
