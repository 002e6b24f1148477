"""Concurrent callers of a local model share engine calls: the real HF backend on a tiny Llama."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from arcray.llm import SamplingParams, get_backend
from arcray.llm.batching import BatchingBackend

PROMPTS = [f"prompt number {i} " + "word " * (i % 5) for i in range(12)]
GREEDY = SamplingParams(max_new_tokens=8)


def texts(rows):
    return [[c.text for c in row] for row in rows]


def from_threads(backend, prompts, params, start=None):
    """Each prompt asked by its own thread, all at once (what tasks of one actor do)."""

    def ask(prompt):
        if start is not None:
            start.wait()
        return backend.generate([prompt], params)[0]

    with ThreadPoolExecutor(max_workers=len(prompts)) as pool:
        return list(pool.map(ask, prompts))


def test_calls_from_many_threads_are_merged_and_answered_in_their_own_order(tiny_llama):
    alone = get_backend("hf", model=str(tiny_llama), device="cpu")
    expected = [alone.generate([p], GREEDY)[0] for p in PROMPTS]
    with get_backend("hf", model=str(tiny_llama), device="cpu", callers=len(PROMPTS)) as shared:
        assert isinstance(shared, BatchingBackend)
        shared.wait_s = 0.5  # let every thread's call arrive before the first engine call
        got = from_threads(shared, PROMPTS, GREEDY, start=threading.Barrier(len(PROMPTS)))
        stats = shared.stats
    assert texts(got) == texts(expected)  # each caller gets its own prompt's answer (greedy: batch-independent)
    assert stats.calls == len(PROMPTS) and stats.prompts == len(PROMPTS)
    assert stats.engine_calls < len(PROMPTS) and stats.largest > 1  # merged, not one engine call per caller
    assert shared.usage.completions == alone.usage.completions == len(PROMPTS)  # counted once, by the engine
    alone.close()


def test_a_seeded_sample_does_not_depend_on_which_calls_were_merged(tiny_llama):
    """The queue merges calls by when they arrive; a seeded sample must not care (per-row draws)."""
    sampled = SamplingParams(n=3, temperature=1.0, max_new_tokens=8, seed=2)
    alone = get_backend("hf", model=str(tiny_llama), device="cpu")
    expected = texts(alone.generate(PROMPTS, sampled))
    alone.close()
    for wait_s in (0.0, 0.5):  # few merges, then one engine call for most callers
        with get_backend("hf", model=str(tiny_llama), device="cpu", callers=len(PROMPTS), batch_size=5) as shared:
            shared.wait_s = wait_s
            got = from_threads(shared, PROMPTS, sampled, start=threading.Barrier(len(PROMPTS)))
        assert texts(got) == expected, f"wait_s={wait_s}"
    assert len({c for row in expected for c in row}) > len(PROMPTS)  # drawn, not greedy


def test_only_calls_that_can_share_sampling_are_merged(tiny_llama):
    with get_backend("hf", model=str(tiny_llama), device="cpu", callers=4, batch_size=3) as shared:
        shared.wait_s = 0.5
        start = threading.Barrier(6)
        with ThreadPoolExecutor(max_workers=6) as pool:
            short = [pool.submit(lambda p=p: (start.wait(), shared.generate([p], GREEDY))[1]) for p in PROMPTS[:4]]
            long = [pool.submit(lambda p=p: (start.wait(), shared.generate([p], GREEDY.model_copy(update={"max_new_tokens": 3})))[1])
                    for p in PROMPTS[4:6]]
            rows = [f.result()[0] for f in short + long]
        assert [c.completion_tokens for row in rows for c in row] == [8] * 4 + [3] * 2
        assert shared.stats.largest <= 3  # the engine's batch size bounds one merged call
        assert shared.stats.engine_calls >= 3  # 4 short calls need two engine calls of at most 3; the 2 long ones a third


def test_one_callers_bad_prompt_fails_that_caller_only(tiny_llama):
    with get_backend("hf", model=str(tiny_llama), device="cpu", callers=3) as shared:
        shared.wait_s = 0.3
        start = threading.Barrier(3)
        shared.inner.tokenizer.chat_template = None  # a chat prompt now fails inside the engine call
        bad = [{"role": "user", "content": "x"}]

        def ask(prompt):
            start.wait()
            try:
                return shared.generate([prompt], GREEDY)
            except Exception as error:  # noqa: BLE001
                return error

        with ThreadPoolExecutor(max_workers=3) as pool:
            outcomes = list(pool.map(ask, [bad, PROMPTS[0], PROMPTS[1]]))
        assert isinstance(outcomes[0], Exception) and "chat template" in str(outcomes[0])
        assert [texts(o) for o in outcomes[1:]] == [texts(shared.inner.generate([p], GREEDY)) for p in PROMPTS[:2]]
        assert texts(shared.generate([PROMPTS[2]], GREEDY))[0][0]  # the queue goes on


def test_a_closed_backend_refuses_new_calls_in_one_line(tiny_llama):
    shared = get_backend("hf", model=str(tiny_llama), device="cpu", callers=2)
    shared.close()
    shared.close()  # twice is fine
    with pytest.raises(RuntimeError, match="closed"):
        shared.generate(["hi"], GREEDY)


def test_one_caller_gets_the_plain_backend(tiny_llama):
    with get_backend("hf", model=str(tiny_llama), device="cpu") as plain:
        assert not isinstance(plain, BatchingBackend)
