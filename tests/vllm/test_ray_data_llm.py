"""The sampling stage on Ray Data LLM for real: `arcray consistency --pipeline ray-data-llm` with a vllm
student (SmolLM2 and a LoRA adapter) on a local, CPU-only Ray, in the vLLM Python; then a re-run
that resumes without sampling anything again."""

from __future__ import annotations

import json

import yaml

from arcray.consistency.records import samples_from_json
from tests.vllm.engine import ROOT, run_vllm
from tests.vllm.test_vllm_backend import make_adapter

PROMPTS, N = 3, 2


def test_consistency_on_ray_data_llm_writes_records_and_resumes(tmp_path):
    adapter = make_adapter(tmp_path / "lora" / "adapter")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "student": {"backend": "vllm", "model": "smollm2-135m", "adapter": str(adapter), "max_model_len": 1024,
                    "kv_cache_gib": 1, "max_lora_rank": 16},
        "pipeline": "ray-data-llm", "dataset": {"source": "arith", "limit": PROMPTS}, "n": N, "max_new_tokens": 24,
        "batch_size": 4, "concurrency": 1, "num_cpus_per_actor": 1.5,  # beside four 0.1-CPU stages on 2 CPUs
    }))
    out = tmp_path / "run"
    command = ["-m", "arcray", "consistency", "--config", str(config), "--out", str(out), "--json"]
    first = json.loads(run_vllm(command, timeout=420, cwd=ROOT).stdout.strip().splitlines()[-1])
    assert first["prompts"] == PROMPTS and first["errors"] == 0
    lines = (out / "samples.jsonl").read_text().splitlines()
    records = samples_from_json([json.loads(line) for line in lines], where="samples.jsonl")
    assert len(records) == PROMPTS
    for record in records:
        assert len(record.responses) == N and all(r.text for r in record.responses)
        assert record.sampling["n"] == N and record.metrics["consistency"] is not None

    again = json.loads(run_vllm(command, timeout=300, cwd=ROOT).stdout.strip().splitlines()[-1])
    assert again["prompts"] == PROMPTS
    assert (out / "samples.jsonl").read_text().splitlines() == lines  # nothing sampled or written twice
