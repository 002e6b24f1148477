"""Loading a transformers tokenizer and causal LM the one way both generation and training want.

Sampling (``hf.py``) and QLoRA training (``training/worker.py``) load the same bases, so the NF4
recipe (QLoRA's: 4-bit NormalFloat with double quantisation, computing in the model's dtype) and
the pad-token fallback live here once.
"""

from __future__ import annotations

from typing import Any, Literal


def load_tokenizer(source: str, *, padding_side: Literal["left", "right"]) -> Any:
    """The tokenizer, padded on ``padding_side`` (left to generate, right to train); a model that has
    no pad token pads with its end-of-sequence (or unknown) token."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source)
    tokenizer.padding_side = padding_side
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    return tokenizer


def load_causal_lm(model_path: str, *, load_in_4bit: bool, device: Any, dtype: Any) -> Any:
    """The model on ``device``: NF4 with double quantisation when ``load_in_4bit``, else plain weights."""
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {"dtype": dtype}
    if load_in_4bit:
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=dtype,
        )
        kwargs["device_map"] = {"": device}  # this process's device only, never "auto" under DDP
    model = AutoModelForCausalLM.from_pretrained(model_path, **kwargs)
    if not load_in_4bit:
        model.to(device)
    return model
