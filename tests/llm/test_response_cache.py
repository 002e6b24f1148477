"""The response cache: a second identical run asks the backend nothing; concurrent writers are safe."""

from __future__ import annotations

import json
import multiprocessing

from arcray.llm import CacheConfig, Completion, ResponseCache, SamplingParams, get_backend
from tests.fake_gemini import Reply


def test_a_second_identical_run_makes_zero_backend_calls(fake_gemini, gemini_config, tmp_path):
    cache = CacheConfig(dir=tmp_path / "cache")
    params = SamplingParams(n=3, temperature=0.7, seed=5)
    prompts = ["first", [{"role": "user", "content": "second"}]]
    with get_backend(gemini_config, cache=cache) as backend:
        first = backend.generate(prompts, params)
    assert fake_gemini.request_count == 6

    with get_backend(gemini_config, cache=cache) as backend:  # a re-run: a fresh process would look the same
        second = backend.generate(prompts, params)
        usage = backend.usage
    assert fake_gemini.request_count == 6
    assert [[c.text for c in row] for row in second] == [[c.text for c in row] for row in first]
    assert all(c.cached for row in second for c in row)
    assert usage.cached == 6 and usage.requests == 0 and usage.cost(backend.price) == 0.0


def test_more_samples_ask_only_for_the_new_ones(fake_gemini, gemini_config, tmp_path):
    cache = CacheConfig(dir=tmp_path / "cache")
    with get_backend(gemini_config, cache=cache) as backend:
        backend.generate(["p"], SamplingParams(n=2, temperature=1.0, seed=100))
        [row] = backend.generate(["p"], SamplingParams(n=4, temperature=1.0, seed=100))
    assert [c.cached for c in row] == [True, True, False, False]
    assert sorted(r.generation_config["seed"] for r in fake_gemini.requests) == [100, 101, 102, 103]


def test_the_key_covers_model_prompt_and_params(fake_gemini, gemini_config, tmp_path):
    cache = CacheConfig(dir=tmp_path / "cache")
    with get_backend(gemini_config, cache=cache) as backend:
        backend.generate(["p"], SamplingParams(temperature=0.5))
        backend.generate(["p"], SamplingParams(temperature=0.6))
        backend.generate(["p "], SamplingParams(temperature=0.5))
        backend.generate(["p"], SamplingParams(temperature=0.5, max_new_tokens=7))
    with get_backend({**gemini_config, "model": "gemini-2.5-pro"}, cache=cache) as backend:
        backend.generate(["p"], SamplingParams(temperature=0.5))
    assert fake_gemini.request_count == 5


def test_failures_are_not_cached_and_the_flag_turns_it_off(fake_gemini, gemini_config, tmp_path):
    cache = CacheConfig(dir=tmp_path / "cache")
    fake_gemini.script(Reply.error(400))
    with get_backend(gemini_config, cache=cache) as backend:
        [[failed]] = backend.generate(["p"])
        [[retried]] = backend.generate(["p"])
    assert failed.error_kind == "client_error" and retried.ok and not retried.cached
    with get_backend(gemini_config, cache=CacheConfig(enabled=False, dir=tmp_path / "cache")) as backend:
        [[fresh]] = backend.generate(["p"])
    assert not fresh.cached and fake_gemini.request_count == 3


def test_the_cache_wraps_local_models_too(tiny_llama, tmp_path):
    cache = CacheConfig(dir=tmp_path / "cache")
    params = SamplingParams(n=2, temperature=0.8, seed=3, max_new_tokens=6)
    with get_backend("hf", model=str(tiny_llama), cache=cache) as backend:
        first = backend.generate(["hello", "world"], params)
        generated = backend.inner.usage.completions
        second = backend.generate(["hello", "world"], params)
        assert backend.inner.usage.completions == generated  # nothing generated the second time
    assert [[c.text for c in r] for r in first] == [[c.text for c in r] for r in second]


def _hammer(root: str, writer: int) -> None:
    cache = ResponseCache(root)
    for round_ in range(30):
        for key in ("a" * 64, "b" * 64):
            cache.put(key, Completion(text=f"writer {writer} round {round_} " + "x" * 2000))


def test_concurrent_writers_never_leave_a_torn_entry(tmp_path):
    root = str(tmp_path / "cache")
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_hammer, args=(root, w)) for w in range(3)]
    for process in writers:
        process.start()
    cache = ResponseCache(root)
    while any(p.is_alive() for p in writers):  # read while they write: whole entries or none
        for key in ("a" * 64, "b" * 64):
            entry = cache.get(key)
            assert entry is None or entry.text.startswith("writer ")
    for process in writers:
        process.join()
        assert process.exitcode == 0
    assert len(cache) == 2 and not list((tmp_path / "cache").rglob("*.tmp"))


def test_a_damaged_entry_is_a_miss(tmp_path):
    cache = ResponseCache(tmp_path)
    key = "c" * 64
    cache.put(key, Completion(text="ok"))
    cache.path(key).write_text("{not json")
    assert cache.get(key) is None
    cache.put(key, Completion(text="again"))
    assert cache.get(key).text == "again" and json.loads(cache.path(key).read_text())["completion"]["text"] == "again"
