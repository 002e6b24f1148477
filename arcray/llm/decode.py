"""Sampling that retires a row as soon as it ends: the HF backend's decode loop.

transformers' ``generate()`` keeps every row of a batch in every forward pass until the last row
ends: a finished row is fed padding. On an ARC evaluation that is most of the work. The students'
programs end after 18-42 tokens at the median while one row of the 120 in a batch runs to the
64-token cap, so every row pays for 64 steps. This loop drops the rows that have ended (end of
sequence, a stop string, a grammar that accepts) from the batch and from its key/value cache.
``python benchmarks/sampling.py --retire`` times it against ``generate()`` on the same prompts.

Written by hand because neither transformers' ``generate()`` nor its caches remove finished rows.
vLLM does (continuous batching), but it is not the embedded CPU default. The loop does what
``generate()`` does for the options arcray uses and no more:
- temperature, then top-p;
- the end-of-sequence ids, or none with ``ignore_eos``;
- a grammar's mask;
- stop strings.
The model's own generation config (repetition penalties, ...) is not read, as it was not before.

Draws. Each row samples from its own stream of uniforms (``row_streams``), keyed by the call's seed,
the prompt's tokens and the sample's index, and turns its uniform into a token by inverting the
distribution's cumulative sum. A seeded sample is then the same whichever rows share its batch: one
global generator would hand each row the next number in the batch's order, and which calls the
batching queue merges depends on when they arrive. What can still differ with the batch is the logits'
last bits (matrix products of other shapes), which moves a draw only where its uniform falls that close
to a boundary of the distribution; ``scripts/draw_invariance.py`` measures how often.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any, Callable, Sequence

RETIRE_SHARE = 0.25  # compact the batch once a quarter of its rows have ended: each compaction copies the cache


def decode(
    model: Any,
    input_ids: Any,
    attention_mask: Any,
    *,
    max_new_tokens: int,
    eos_ids: set[int],
    greedy: bool,
    temperature: float = 1.0,
    top_p: float = 1.0,
    ignore_eos: bool = False,
    cache: Any = None,
    grammar: Any = None,
    stopped: Callable[[list[int]], bool] | None = None,
    room: Callable[[Any], None] | None = None,
    streams: Sequence[random.Random] | None = None,
) -> list[list[int]]:
    """Each row's new tokens (its end-of-sequence token included, nothing after it).

    ``cache``: the key/value cache of every prompt token but the last (the shared-prefix path), or
    None to run the whole prompt first. ``grammar``: per-row matchers (``RowGrammar``).
    ``stopped(tokens)``: whether a row's text holds a stop string. ``room(cache)``: called once on the
    cache the prompt built, to reserve room for the answer. Sampling draws from torch's global
    generator, which the caller seeds.
    """
    import torch

    live = list(range(input_ids.shape[0]))  # the original row of each row in the batch; -1: ended, not yet dropped
    tokens: list[list[int]] = [[] for _ in live]
    keyword = cache_keyword(model)
    mask = attention_mask
    if cache is None:
        feed, positions = input_ids, (mask.cumsum(-1) - 1).clamp(min=0)
    else:
        feed, positions = input_ids[:, -1:], mask.sum(-1, keepdim=True) - 1
    eos = torch.tensor(sorted(eos_ids), dtype=torch.long, device=input_ids.device) if eos_ids else None
    retired = 0  # rows ended since the last compaction, still in the batch
    for step in range(max_new_tokens):
        output = model(input_ids=feed, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1,
                       **{keyword: cache})
        if cache is None and room is not None:
            room(cache_of(output))
        cache = cache_of(output)
        scores = output.logits[:, -1, :].float()
        if eos is not None and ignore_eos:
            scores.index_fill_(1, eos, float("-inf"))
        if grammar is not None:
            scores = grammar.mask(live, scores)
        uniforms = None
        if streams is not None and not greedy:  # an ended row still in the batch takes no number from its stream
            uniforms = torch.tensor([streams[row].random() if row >= 0 else 0.5 for row in live], device=scores.device)
        chosen = _pick(scores, greedy=greedy, temperature=temperature, top_p=top_p, uniforms=uniforms)
        ended = []
        for place, (row, token) in enumerate(zip(live, chosen.tolist())):
            if row < 0:
                continue  # ended earlier, waiting for the next compaction
            tokens[row].append(token)
            if grammar is not None:
                grammar.consume(row, token)
            if (not ignore_eos and token in eos_ids) or (stopped is not None and stopped(tokens[row])):
                ended.append(place)
        for place in ended:
            live[place] = -1
        retired += len(ended)
        still = [place for place, row in enumerate(live) if row >= 0]
        if not still or step + 1 == max_new_tokens:
            break
        feed = chosen[:, None]
        mask = torch.cat([mask, mask.new_ones((mask.shape[0], 1))], dim=1)
        positions = positions[:, -1:] + 1
        if retired >= max(1, RETIRE_SHARE * len(live)):
            keep = torch.tensor(still, dtype=torch.long, device=input_ids.device)
            feed, mask, positions = feed[keep], mask[keep], positions[keep]
            _select_rows(cache, keep)
            live = [live[place] for place in still]
            retired = 0
    return tokens


def cache_keyword(model: Any) -> str:
    """The forward (and generate) keyword of the key/value cache: ``cache`` from transformers 5,
    ``past_key_values`` before (which transformers 5 still takes, with a deprecation warning)."""
    import inspect

    forward = getattr(model, "get_base_model", lambda: model)().forward  # a PEFT wrapper passes it through
    return "cache" if "cache" in inspect.signature(forward).parameters else "past_key_values"


def cache_of(output: Any) -> Any:
    """A model output's key/value cache, under either name (see ``cache_keyword``)."""
    return output["cache"] if "cache" in output else output["past_key_values"]


def row_streams(seed: int, prompts: Sequence[Sequence[int]], samples: Sequence[int]) -> list[random.Random]:
    """One stream of uniforms per row, for every prompt (its token ids) and each sample index in
    ``samples``, prompt-major as the rows are laid out: the same seed, prompt and sample give the same
    stream in any batch. Python's Mersenne Twister seeded from a BLAKE2 digest of the three."""
    streams = []
    for ids in prompts:
        digest = hashlib.blake2b(repr(tuple(ids)).encode(), digest_size=16)
        for sample in samples:
            key = hashlib.blake2b(f"{seed}:{sample}:".encode() + digest.digest(), digest_size=16).digest()
            streams.append(random.Random(int.from_bytes(key, "big")))
    return streams


def _pick(scores: Any, *, greedy: bool, temperature: float, top_p: float, uniforms: Any = None) -> Any:
    """The next token of each row: the most likely, or a draw after temperature and top-p (as
    transformers' TemperatureLogitsWarper and TopPLogitsWarper compute them). With ``uniforms`` (one
    per row, in [0, 1)) the draw is the first token whose cumulative probability exceeds it."""
    import torch

    if greedy:
        return scores.argmax(-1)
    scores = scores / temperature
    if top_p < 1.0:
        ordered, order = torch.sort(scores, descending=False)
        cumulative = ordered.softmax(dim=-1).cumsum(dim=-1)
        drop = cumulative <= (1 - top_p)
        drop[..., -1:] = False  # keep at least the most likely token
        scores = scores.masked_fill(drop.scatter(1, order, drop), float("-inf"))
    probabilities = scores.softmax(dim=-1)
    if uniforms is None:
        return torch.multinomial(probabilities, num_samples=1).squeeze(1)
    cumulative = probabilities.cumsum(dim=-1)
    targets = (uniforms.to(cumulative.dtype) * cumulative[:, -1]).unsqueeze(1)
    chosen = torch.searchsorted(cumulative, targets, right=True).squeeze(1)
    return chosen.clamp(max=scores.shape[-1] - 1)


def _select_rows(cache: Any, keep: Any) -> None:
    """Keep only the rows ``keep`` of every layer of the cache (the reserved room too)."""
    for layer in getattr(cache, "layers", ()):
        if getattr(layer, "_key_room", None) is not None:
            layer._key_room = layer._key_room.index_select(0, keep)
            layer._value_room = layer._value_room.index_select(0, keep)
            layer.keys = layer._key_room[..., : layer._filled, :]
            layer.values = layer._value_room[..., : layer._filled, :]
        elif getattr(layer, "keys", None) is not None and layer.keys.numel():
            layer.keys = layer.keys.index_select(0, keep)
            layer.values = layer.values.index_select(0, keep)
