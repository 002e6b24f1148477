"""Grammar-constrained sampling for the HF backend, with llguidance (the engine vLLM uses for it).

llguidance does the hard part: from a Lark grammar and the tokenizer it computes, per sequence
and step, the set of tokens that keep the text inside the grammar. What is left to write here is
the glue to arcray's decode loop (``arcray.llm.decode``): one matcher per sampled row, fed the
token the row drew, a mask of each live row's logits to its allowed set, and the
grammar's forced opening (its fast-forward tokens) appended to every prompt, so that text the
grammar dictates is encoded with the prompt in one pass instead of decoded a token a step.
"""

from __future__ import annotations

import functools
from typing import Any

from arcray.errors import ConfigError


def _llguidance() -> Any:
    try:
        import llguidance
        import llguidance.hf  # noqa: F401
        import llguidance.numpy  # noqa: F401
    except ImportError:
        raise ConfigError("grammar-constrained sampling needs llguidance: pip install 'arcray[hf]'") from None
    return llguidance


@functools.lru_cache(maxsize=4)
def _compiled(lark: str) -> str:
    llguidance = _llguidance()
    try:
        return llguidance.LLMatcher.grammar_from_lark(lark)
    except Exception as error:  # noqa: BLE001 (llguidance raises plain ValueError/RuntimeError)
        first = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        raise ConfigError(f"the sampling grammar does not compile: {first}; check its Lark syntax") from None


class Constraint:
    """A Lark grammar bound to one tokenizer: the matchers of a batch, and its forced opening."""

    def __init__(self, lark: str, tokenizer: Any, vocab_size: int) -> None:
        llguidance = _llguidance()
        self._module = llguidance
        self.grammar = _compiled(lark)
        self.vocab_size = vocab_size
        self.tokenizer = _llg_tokenizer(tokenizer, vocab_size)
        self.eos = self.tokenizer.eos_token
        probe = self.matcher()
        if probe.is_error():
            first = probe.get_error().strip().splitlines()[0][:200]
            raise ConfigError(f"the sampling grammar does not compile: {first}; check its Lark syntax")
        self.forced: list[int] = list(probe.compute_ff_tokens())  # the text every answer starts with

    def matcher(self) -> Any:
        return self._module.LLMatcher(self.tokenizer, self.grammar)

    def rows(self, count: int) -> "RowGrammar":
        """Matchers for ``count`` sampled rows, each past the forced opening."""
        return RowGrammar(self, count)


@functools.lru_cache(maxsize=4)
def _cached_tokenizer(tokenizer: Any, vocab_size: int) -> Any:
    return _llguidance().hf.from_tokenizer(tokenizer, n_vocab=vocab_size)  # ~0.6 s: once per tokenizer


def _llg_tokenizer(tokenizer: Any, vocab_size: int) -> Any:
    try:
        return _cached_tokenizer(tokenizer, vocab_size)
    except ValueError as error:
        raise ConfigError(f"grammar-constrained sampling needs a fast tokenizer: {error}") from None


class RowGrammar:
    """One matcher per sampled row: masks each live row's logits to the tokens its grammar allows
    next, and takes in the token the row drew (``arcray.llm.decode``)."""

    def __init__(self, constraint: Constraint, rows: int) -> None:
        self.constraint = constraint
        self.matchers = []
        for _ in range(rows):
            matcher = constraint.matcher()
            matcher.consume_tokens(constraint.forced)
            self.matchers.append(matcher)
        self.executor = constraint._module.LLExecutor()
        self.bitmask = constraint._module.numpy.allocate_token_bitmask(rows, constraint.vocab_size)

    def consume(self, row: int, token: int) -> None:
        matcher = self.matchers[row]
        if not matcher.is_stopped() and not matcher.is_error():
            matcher.consume_token(token)

    def mask(self, live: list[int], scores: Any) -> Any:
        """``scores`` has one row per entry of ``live`` (an original row index; -1: a row that has
        ended and is not masked)."""
        import numpy as np
        import torch

        bitmask = self.bitmask[: len(live)]
        bitmask.fill(-1)
        guided = [(self.matchers[row], place) for place, row in enumerate(live)
                  if row >= 0 and not self.matchers[row].is_error()]
        self.constraint._module.numpy.fill_next_token_bitmask_par(self.executor, guided, bitmask)
        for place, row in enumerate(live):
            if row >= 0 and self.matchers[row].is_error():  # cannot happen under the mask; end the row, not unguided
                eos = self.constraint.eos
                bitmask[place] = 0
                bitmask[place, eos // 32] = np.uint32(1 << (eos % 32)).view(np.int32)
        # token t is bit t % 32 of word t // 32: the words' little-endian bytes, unpacked low bit first
        words = np.ascontiguousarray(bitmask).astype("<i4", copy=False).view(np.uint8)
        allowed = np.unpackbits(words, axis=1, bitorder="little")[:, : scores.shape[1]].astype(bool)
        return scores.masked_fill(~torch.from_numpy(allowed).to(scores.device), float("-inf"))
