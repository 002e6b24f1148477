"""Loading a transformers tokenizer and causal LM the one way both generation and training want.

Sampling (``hf.py``) and QLoRA training (``training/worker.py``) load the same bases, so the NF4
recipe (QLoRA's: 4-bit NormalFloat with double quantisation, computing in the model's dtype) and
the pad-token fallback live here once.
"""

from __future__ import annotations

from typing import Any, Literal


def quiet_libraries() -> None:
    """Silence, at its source, what the libraries print while loading that tells an arcray user nothing:
    transformers' per-file bars (loading weights, writing shards: arcray prints a line per stage with its
    ETA), bitsandbytes' warning on import that it found no CPU kernel on the hub (raised where no 4-bit model
    is asked for: PEFT imports it whenever it is installed), and the FutureWarning PEFT and TRL raise by
    calling transformers' renamed ``is_gradient_checkpointing``. Idempotent; each process calls it."""
    import logging
    import warnings

    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)


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

    quiet_libraries()
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
