"""Many callers, one engine: concurrent ``generate`` calls merged into one batched engine call.

The evolution loop asks for one task's population (1–2 programs) per call; an actor working on
several tasks at once (threads) would otherwise run as many small generate calls one after the
other, each at batch-1 speed. :class:`BatchingBackend` queues every call and a single engine
thread takes, each time it is free, every queued call that can share one engine call (the same
sampling parameters), so what runs at once is what is in flight across all tasks of the actor.

Written here because the HF backend has no request queue of its own (``generate`` is one
synchronous batch) and transformers' continuous batching (``generate_batch``) takes neither our
stop strings nor per-call seeds. An engine with its own scheduler (vLLM) needs none of this.

Reproducibility: which calls merge depends on when they arrive. With a seed, the HF backend's decode
loop draws each row from its own stream (seed, prompt, sample index; ``arcray.llm.decode``), so the
draws do not depend on the merge; in float32 a seeded sample is then the same in any batch, in bfloat16
about 83% of them are (``scripts/draw_invariance.py``: the logits' rounding moves with the batch's shape).
``decode: generate`` seeds one global generator per engine call, and its samples follow the merge.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from arcray.llm.backend import Backend, NormalizedPrompt, WrappedBackend
from arcray.llm.types import Completion, SamplingParams


@dataclass
class _Call:
    prompts: list[NormalizedPrompt]
    params: SamplingParams
    first_sample: int
    done: Future = field(default_factory=Future)

    @property
    def key(self) -> tuple[str, int]:
        return self.params.model_dump_json(), self.first_sample


@dataclass
class BatchStats:
    """How full the engine ran: engine calls, the callers' calls they served, prompts in each."""

    engine_calls: int = 0
    calls: int = 0
    prompts: int = 0
    largest: int = 0

    @property
    def mean_prompts(self) -> float:
        return self.prompts / self.engine_calls if self.engine_calls else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"engine_calls": self.engine_calls, "calls": self.calls, "prompts": self.prompts,
                "largest": self.largest, "mean_prompts": round(self.mean_prompts, 2)}


class BatchingBackend(WrappedBackend):
    """Any backend behind one queue; safe to call from many threads at once.

    ``max_prompts`` bounds one engine call; ``wait_s`` is how long the engine thread lets a
    batch fill once a call arrives while the engine is idle (calls that arrive while it is busy
    wait for it anyway and cost nothing extra).
    """

    def __init__(self, inner: Backend, *, max_prompts: int = 64, wait_s: float = 0.05) -> None:
        super().__init__(inner)  # the inner backend counts what it generates
        self.max_prompts, self.wait_s = max_prompts, wait_s
        self.stats = BatchStats()
        self._queue: list[_Call] = []
        self._ready = threading.Condition()
        self._closed = False
        self._engine = threading.Thread(target=self._serve, name=f"arcray-{inner.name}-engine", daemon=True)
        self._engine.start()

    def _generate(
        self, prompts: list[NormalizedPrompt], params: SamplingParams, first_sample: int
    ) -> list[list[Completion]]:
        call = _Call(list(prompts), params, first_sample)
        with self._ready:
            if self._closed:
                raise RuntimeError("the backend is closed")
            self._queue.append(call)
            self._ready.notify_all()
        return call.done.result()

    def _account(self, results: list[list[Completion]]) -> None:
        """The inner backend counted these already."""

    def _serve(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            self._run(batch)

    def _next_batch(self) -> list[_Call] | None:
        """The oldest queued call and every queued call that can share its engine call."""
        with self._ready:
            while not self._queue and not self._closed:
                self._ready.wait()
            if self._closed and not self._queue:
                return None
            deadline = time.monotonic() + self.wait_s
            while not self._closed and self._queued_like(self._queue[0]) < self.max_prompts:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._ready.wait(left)
            key, batch, size, rest = self._queue[0].key, [], 0, []
            for call in self._queue:
                if call.key == key and (not batch or size + len(call.prompts) <= self.max_prompts):
                    batch.append(call)
                    size += len(call.prompts)
                else:
                    rest.append(call)
            self._queue = rest
            return batch

    def _queued_like(self, first: _Call) -> int:
        return sum(len(c.prompts) for c in self._queue if c.key == first.key)

    def _run(self, batch: list[_Call]) -> None:
        prompts = [p for call in batch for p in call.prompts]
        first = batch[0]
        # Longest first, so each of the engine's chunks of ``batch_size`` holds prompts of like
        # length and pads little; the rows go back to their callers' order below.
        order = sorted(range(len(prompts)), key=lambda i: -_length(prompts[i]))
        try:
            ranked = self.inner.generate([prompts[i] for i in order], first.params, first_sample=first.first_sample)
        except Exception as error:
            if len(batch) == 1:
                first.done.set_exception(error)
                return
            for call in batch:  # one caller's bad prompt must not fail the others: each alone
                self._run([call])
            return
        results: list[list[Completion]] = [[] for _ in prompts]
        for row, index in zip(ranked, order):
            results[index] = row
        self.stats.engine_calls += 1
        self.stats.calls += len(batch)
        self.stats.prompts += len(prompts)
        self.stats.largest = max(self.stats.largest, len(prompts))
        start = 0
        for call in batch:
            call.done.set_result(results[start : start + len(call.prompts)])
            start += len(call.prompts)

    def report(self) -> dict[str, Any]:
        return {**super().report(), "batching": self.stats.to_dict()}

    def close(self) -> None:
        with self._ready:
            if self._closed:
                return
            self._closed = True
            self._ready.notify_all()
        self._engine.join()
        super().close()



def _length(prompt: NormalizedPrompt) -> int:
    """A prompt's size in characters (a stand-in for its tokens, to group like lengths)."""
    return len(prompt) if isinstance(prompt, str) else sum(len(m["content"]) for m in prompt)
