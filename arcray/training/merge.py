"""Folding a LoRA adapter into its base: one plain model folder that any loader reads.

The base is loaded unquantised in its own dtype (never the 4-bit copy training used):
merging into NF4 weights would round the update away, and a merged 4-bit model cannot be
saved. The result generates like base + adapter, without PEFT at inference time.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from arcray.errors import ArcrayError


def merge_adapter(base: str, adapter: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Write ``out``: ``base`` with ``adapter`` merged in, with the tokenizer the adapter was trained with."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from arcray.llm.hf import resolve_model
    from arcray.llm.loading import quiet_libraries

    quiet_libraries()

    adapter, out = Path(adapter), Path(out)
    if not (adapter / "adapter_config.json").is_file():
        raise ArcrayError(f"{adapter} is not a PEFT adapter (no adapter_config.json); pass RUN_DIR/adapter")
    base_path = resolve_model(base)
    model = AutoModelForCausalLM.from_pretrained(base_path, dtype="auto")
    merged = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    tokenizer_source = adapter if (adapter / "tokenizer_config.json").is_file() else base_path
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_source)
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    merged.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out
