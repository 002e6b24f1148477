"""The GPU check: QLoRA, sampling and memory on one GPU, in one table. Prepared before any GPU is lent.

    python benchmarks/gpu_check.py --assets .gpu --out "$OUT"     # on the device machine (see below)
    python benchmarks/gpu_check.py --smoke-test                   # seconds on CPU: every step at toy sizes

For each student, the plan's QLoRA recipe through arcray's own trainer (``arcray.training.worker.build_trainer``,
what every Ray Train worker runs: NF4 base with double quantisation, bf16, LoRA r=16, alpha=32, dropout 0.05 on
q_proj and v_proj, lr 2e-4, batch 4 x 4 accumulation, loss on the answers), ``--steps`` optimiser steps on the
main job's ARC training chats; then arcray's HF backend sampling the students' ARC evaluation call (``--prompts``
compact prompts x n=8 at T=0.7, 64 new tokens, bf16). Each row gives seconds a step, training tokens a second,
new tokens a second, and the GPU's peak memory (``torch.cuda.max_memory_allocated``) for each part.

Students: ``smollm2-135m`` (SmolLM2-135M-Instruct's config and tokenizer) and ``codegemma-7b`` (CodeGemma 7B's
architecture, the plan's student: Gemma, hidden 3072, 28 layers, 16 heads of 256, MLP 24576, vocabulary 256000),
both with random weights built on the GPU. The device machine reaches no network and takes 64 MiB of carried files,
which no real weights of either fit in (SmolLM2's GGUF alone is 98 MB); random weights of the right shapes measure
speed and memory, not quality. ``--largest`` adds a 13B Llama shape to find where one GPU stops.

Ray Train itself is not in the measurement: Ray 2.60's wheel for the device's Python 3.12 is 79 MB, over the
64 MiB the device takes. The trainer here is the one each Ray Train worker builds, on the same device, so the
figures are a worker's; what Ray adds (a process, its object store, a report per epoch) is measured on CPU.

Carried to the device (``scripts/gpu_check_assets.sh`` makes ``.gpu/``, about 50 MB): wheels the device lacks
(bitsandbytes, trl, datasets, pydantic, pydantic-core, ...), SmolLM2's config and tokenizer, and the main job's
ARC training chats. The figures and the device's answer go into ``docs/training.md`` ("The GPU check").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CODEGEMMA_7B = {"model_type": "gemma", "hidden_size": 3072, "intermediate_size": 24576, "num_hidden_layers": 28,
                "num_attention_heads": 16, "num_key_value_heads": 16, "head_dim": 256, "vocab_size": 256000,
                "max_position_embeddings": 8192, "hidden_act": "gelu_pytorch_tanh", "rms_norm_eps": 1e-6}
LLAMA_13B = {"model_type": "llama", "hidden_size": 5120, "intermediate_size": 13824, "num_hidden_layers": 40,
             "num_attention_heads": 40, "num_key_value_heads": 40, "vocab_size": 32000, "max_position_embeddings": 4096}
TOY = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
       "num_attention_heads": 4, "num_key_value_heads": 4, "max_position_embeddings": 2048}
SAVED_ONLY = ("architectures", "torch_dtype", "dtype", "transformers_version", "quantization_config", "bos_token_id",
              "eos_token_id", "pad_token_id", "tie_word_embeddings")  # a config.json's fields that build_student sets
PLAN = {"lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.05, "target_modules": ["q_proj", "v_proj"], "lr": 2e-4,
        "batch_size": 4, "grad_accum": 4, "warmup_steps": 0.03, "weight_decay": 0.01, "load_in_4bit": True}


def build_student(name: str, shape: dict[str, Any], tokenizer_dir: Path, out: Path, *, device: str) -> Path:
    """A model folder: ``shape``'s architecture with random weights (seeded), in bf16, and the tokenizer."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    fields = dict(shape)
    fields.setdefault("vocab_size", len(tokenizer))
    config = AutoConfig.for_model(**fields, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                                  pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True)
    torch.manual_seed(0)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    folder = out / name
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    del model
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return folder


def measure_qlora(folder: Path, rows: list[dict[str, Any]], *, steps: int, device: str, work: Path, smoke: bool) -> dict[str, Any]:
    """``steps`` optimiser steps of the plan's QLoRA on ``rows`` with arcray's trainer; time, tokens, peak memory."""
    import torch

    from arcray.training.config import TrainConfig
    from arcray.training.worker import build_trainer

    on_gpu = device.startswith("cuda")
    # model_construct: the fields as a worker receives them, without the driver's checks of a prepare run on disk
    config = TrainConfig.model_construct(**{**PLAN, "model": str(folder), "data": work, "out": work / "train", "epochs": 1,
                                            "gpu": on_gpu, "max_length": 2048, "cpus_per_worker": 2.0,
                                            "load_in_4bit": PLAN["load_in_4bit"] and not smoke})
    per_step = config.batch_size * config.grad_accum
    train = (rows * (1 + steps * per_step // max(1, len(rows))))[: steps * per_step]
    if on_gpu:
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    trainer = build_trainer(config, train, [], model_path=str(folder), output_dir=str(work / "hf"), device=device)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    result = trainer.train()
    seconds = time.perf_counter() - started
    tokens = sum(len(ids) for ids in trainer.train_dataset["input_ids"])
    peak = torch.cuda.max_memory_allocated() / 2**30 if on_gpu else None
    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    del trainer
    if on_gpu:
        torch.cuda.empty_cache()
    return {"load_s": round(loaded, 1), "steps": steps, "s_per_step": round(seconds / steps, 3),
            "train_tokens_per_s": round(tokens / seconds, 1), "train_loss": round(float(result.training_loss), 4),
            "trainable_params": trainable, "peak_gib": None if peak is None else round(peak, 2)}


def measure_sampling(folder: Path, prompts: list[Any], *, device: str, new_tokens: int) -> dict[str, Any]:
    """arcray's HF backend on the ARC evaluation call: n=8 at T=0.7, ``new_tokens`` each (no early stop)."""
    import torch

    from arcray.llm import SamplingParams, get_backend

    on_gpu = device.startswith("cuda")
    params = SamplingParams(n=8, temperature=0.7, max_new_tokens=new_tokens, ignore_eos=True, seed=0)
    with get_backend("hf", model=str(folder), device=device, dtype="bfloat16", batch_size=len(prompts)) as backend:
        backend.generate(prompts[:1], SamplingParams(n=2, temperature=1.0, max_new_tokens=4, seed=0))  # warm-up
        if on_gpu:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        started = time.perf_counter()
        rows = backend.generate(prompts, params)
        if on_gpu:
            torch.cuda.synchronize()
        seconds = time.perf_counter() - started
    tokens = sum(c.completion_tokens for row in rows for c in row)
    peak = torch.cuda.max_memory_allocated() / 2**30 if on_gpu else None
    if on_gpu:
        torch.cuda.empty_cache()
    return {"sequences": len(prompts) * params.n, "seconds": round(seconds, 2), "new_tokens_per_s": round(tokens / seconds, 1),
            "peak_gib": None if peak is None else round(peak, 2)}


def chats(path: Path) -> list[dict[str, Any]]:
    """Prompt-completion rows from an `arcray prepare` train.jsonl (the main job's ARC chats)."""
    from arcray.training.data import to_prompt_completion

    return [to_prompt_completion(json.loads(line)["messages"]) for line in path.read_text().splitlines() if line.strip()]


def environment(device: str) -> dict[str, Any]:
    import torch
    import transformers

    info: dict[str, Any] = {"python": sys.version.split()[0], "torch": torch.__version__, "transformers": transformers.__version__}
    for name in ("bitsandbytes", "peft", "trl"):
        try:
            info[name] = __import__(name).__version__
        except ImportError:
            info[name] = None
    if device.startswith("cuda"):
        properties = torch.cuda.get_device_properties(0)
        info.update(gpu=properties.name, gpu_memory_gib=round(properties.total_memory / 2**30, 1))
    return info


def table(report: dict[str, Any]) -> str:
    lines = ["| student | QLoRA s/step | QLoRA tokens/s | QLoRA peak GiB | trainable params | sampling new tokens/s "
             "| sampling peak GiB |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, row in report["students"].items():
        q, s = row.get("qlora") or {}, row.get("sampling") or {}
        lines.append(f"| {name} | {q.get('s_per_step', row.get('error', ''))} | {q.get('train_tokens_per_s', '')} | "
                     f"{q.get('peak_gib', '')} | {q.get('trainable_params', '')} | {s.get('new_tokens_per_s', '')} | "
                     f"{s.get('peak_gib', '')} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=Path, default=Path(".gpu"), help="scripts/gpu_check_assets.sh's folder")
    parser.add_argument("--out", type=Path, default=None, help="where gpu_check.json and gpu_check.md go")
    parser.add_argument("--steps", type=int, default=20, help="QLoRA optimiser steps per student")
    parser.add_argument("--prompts", type=int, default=16, help="ARC prompts sampled (x n=8)")
    parser.add_argument("--largest", action="store_true", help="also a 13B Llama shape")
    parser.add_argument("--smoke-test", action="store_true", help="CPU, a toy model, 2 steps: checks the script runs")
    args = parser.parse_args()

    import torch

    smoke = args.smoke_test
    device = "cpu" if smoke else "cuda"
    if not smoke and not torch.cuda.is_available():
        sys.exit("gpu_check: no CUDA device here; run it on the device machine, or --smoke-test on CPU")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from arcray.llm.loading import quiet_libraries

    quiet_libraries()
    work = Path(tempfile.mkdtemp(prefix="arcray-gpu-check-"))
    if smoke:
        from arcray.llm.smollm2 import ensure_converted

        tokenizer_dir = ensure_converted()
        students = {"toy": TOY}
        steps, prompts_count, new_tokens = 2, 2, 8
    else:
        tokenizer_dir = args.assets / "smollm2-135m"
        students = {"smollm2-135m": json.loads((tokenizer_dir / "config.json").read_text()), "codegemma-7b": CODEGEMMA_7B}
        if args.largest:
            students["llama-13b"] = LLAMA_13B
        steps, prompts_count, new_tokens = args.steps, args.prompts, 64
    data = args.assets / "train.jsonl"
    rows = chats(data) if data.is_file() else [
            {"prompt": [{"role": "user", "content": f"Example {i}\nInput (2x2):\n01\n10\nOutput (2x2):\n10\n01"}],
             "completion": [{"role": "assistant", "content": "```python\ndef solve(grid):\n    return flip(grid)\n```"}]}
            for i in range(8)]
    prompts = [tuple(row["prompt"]) for row in rows[:prompts_count]]
    report: dict[str, Any] = {"device": environment(device), "plan": PLAN, "steps": steps, "students": {}}
    for name, shape in students.items():
        row: dict[str, Any] = {}
        try:
            fields = {k: v for k, v in shape.items() if not k.startswith("_") and k not in SAVED_ONLY}
            folder = build_student(name, fields, tokenizer_dir, work, device=device)
            row["qlora"] = measure_qlora(folder, rows, steps=steps, device=device, work=work / name, smoke=smoke)
            row["sampling"] = measure_sampling(folder, prompts, device=device, new_tokens=new_tokens)
        except torch.cuda.OutOfMemoryError as error:
            row["error"] = f"out of memory: {str(error).splitlines()[0][:120]}"
        report["students"][name] = row
        print(json.dumps({name: row}), flush=True)
    text = table(report)
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "gpu_check.json").write_text(json.dumps(report, indent=2) + "\n")
        (args.out / "gpu_check.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
