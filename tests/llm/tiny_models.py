"""Tiny random Llama models with a tokenizer trained here: real transformers parts, in seconds."""

from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
CORPUS = [
    "the quick brown fox jumps over the lazy dog",
    "what is two plus three? two plus three is five",
    "hello world, hello model, hello tests",
    "grids of colours: red green blue, rows and columns",
]


def build_tokenizer():
    """A byte-level BPE trained on a few sentences, with a chat template; eos=0, pad=1, bos=2."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320,
        special_tokens=["</s>", "<pad>", "<s>", "<|system|>", "<|user|>", "<|assistant|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(CORPUS * 4, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="</s>", pad_token="<pad>", bos_token="<s>")
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_tiny_llama(folder: Path, *, seed: int = 0, eos_first: bool = False, hidden_size: int = 32) -> Path:
    """A randomly initialised 2-layer Llama saved with its tokenizer.

    ``hidden_size`` 64 or more suits bitsandbytes' 4-bit blocks. ``eos_first`` zeroes the
    output head: every logit ties, greedy picks token 0 (``</s>``), so the model stops at once
    unless told to ignore its end of sequence.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    if eos_first:
        with torch.no_grad():
            model.lm_head.weight.zero_()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
