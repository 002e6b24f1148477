"""The Gemini backend through the real google-genai SDK against a fake server on 127.0.0.1."""

from __future__ import annotations

import json
import logging

import pytest

from arcray.errors import ConfigError
from arcray.llm import SamplingParams, get_backend
from tests.fake_gemini import API_KEY, Reply


def ask(backend, prompt="hello", **params):
    [[completion]] = backend.generate([prompt], SamplingParams(**params))
    return completion


def test_request_shape_follows_the_rest_api(fake_gemini, gemini_config):
    prompt = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "2+3?"},
        {"role": "assistant", "content": "5"},
        {"role": "user", "content": "and 2+4?"},
    ]
    with get_backend(gemini_config) as backend:
        [completions] = backend.generate(
            [prompt], SamplingParams(n=3, temperature=0.7, top_p=0.9, max_new_tokens=64, stop=["\n\n"], seed=11)
        )
    assert [c.text for c in completions] == ["echo: and 2+4?"] * 3
    assert all(c.ok and c.finish_reason == "stop" and c.attempts == 1 for c in completions)
    first = fake_gemini.requests[0]
    assert first.path.endswith("/models/gemini-2.5-flash:generateContent")
    assert first.headers["x-goog-api-key"] == API_KEY
    assert first.system_text == "be brief"
    assert [c["role"] for c in first.body["contents"]] == ["user", "model", "user"]
    config = first.generation_config
    assert config["temperature"] == 0.7 and config["topP"] == 0.9
    assert config["maxOutputTokens"] == 64 and config["stopSequences"] == ["\n\n"]
    assert sorted(r.generation_config["seed"] for r in fake_gemini.requests) == [11, 12, 13]  # seed + sample


def test_429_honours_the_servers_retry_delay(fake_gemini, gemini_config):
    fake_gemini.script(Reply.error(429, retry_delay="0.6s"), Reply.text("after the wait"))
    with get_backend(gemini_config) as backend:  # computed backoff would be 0.01 s
        completion = ask(backend)
    assert completion.ok and completion.text == "after the wait" and completion.attempts == 2
    [gap] = fake_gemini.gaps()
    assert gap >= 0.55  # the RetryInfo delay, not the 0.01 s backoff


def test_500_is_retried(fake_gemini, gemini_config):
    fake_gemini.script(Reply.error(500), Reply.error(503), Reply.text("third time"))
    with get_backend(gemini_config) as backend:
        completion = ask(backend)
    assert completion.text == "third time" and completion.attempts == 3
    assert fake_gemini.request_count == 3


def test_a_hang_past_the_timeout_is_retried(fake_gemini, gemini_config):
    fake_gemini.script(Reply.hang(30), Reply.text("answered"))
    with get_backend({**gemini_config, "timeout_s": 0.5}) as backend:
        completion = ask(backend)
    assert completion.ok and completion.text == "answered" and completion.attempts == 2


def test_attempts_are_bounded_and_the_reason_recorded(fake_gemini, gemini_config):
    fake_gemini.handler = lambda request: Reply.error(503, message="overloaded")
    with get_backend(gemini_config) as backend:
        completion = ask(backend)
    assert completion.error_kind == "retries_exhausted" and completion.attempts == 3
    assert "3 attempts" in completion.error and "503" in completion.error and "overloaded" in completion.error
    assert fake_gemini.request_count == 3
    assert backend.usage.failures == 1 and backend.usage.requests == 3


def test_a_400_is_not_retried(fake_gemini, gemini_config):
    fake_gemini.script(Reply.error(400, message="model does not support seed"))
    with get_backend(gemini_config) as backend:
        completion = ask(backend)
    assert completion.error_kind == "client_error" and "400" in completion.error
    assert "model does not support seed" in completion.error
    assert fake_gemini.request_count == 1


def test_malformed_json_is_retried_then_recorded(fake_gemini, gemini_config):
    fake_gemini.script(Reply.malformed(), Reply.text("fine now"))
    with get_backend(gemini_config) as backend:
        assert ask(backend).text == "fine now"
        fake_gemini.handler = lambda request: Reply.malformed()
        completion = ask(backend)
    assert completion.error_kind == "retries_exhausted" and "unreadable response" in completion.error


def test_a_part_without_text_is_a_typed_failure(fake_gemini, gemini_config):
    fake_gemini.script(Reply.thought_signature_only())
    with get_backend(gemini_config) as backend:
        completion = ask(backend)
    assert completion.error_kind == "no_text" and completion.text == ""
    assert "thought_signature" in completion.error and "max_new_tokens" in completion.error
    assert completion.completion_tokens == 64  # thinking tokens are billed, so counted
    assert fake_gemini.request_count == 1


@pytest.mark.parametrize(
    ("reply", "kind", "words"),
    [
        (Reply.no_candidates("SAFETY"), "blocked", "prompt blocked (safety)"),
        (Reply.safety_block(), "blocked", "finish reason safety"),
        (Reply.no_candidates(), "no_candidates", "no candidates"),
    ],
)
def test_blocks_and_empty_answers_are_typed_failures(fake_gemini, gemini_config, reply, kind, words):
    fake_gemini.script(reply)
    with get_backend(gemini_config) as backend:
        completion = ask(backend)
    assert completion.error_kind == kind and words in completion.error


def test_length_finish_and_thinking_tokens(fake_gemini, gemini_config):
    fake_gemini.script(Reply.text("cut sh", finish_reason="MAX_TOKENS", completion_tokens=2, thoughts_tokens=5))
    with get_backend(gemini_config) as backend:
        completion = ask(backend)
    assert completion.ok and completion.finish_reason == "length" and completion.completion_tokens == 7


def test_a_missing_key_fails_before_any_request(fake_gemini, gemini_config, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY")
    with pytest.raises(ConfigError, match="GEMINI_API_KEY"):
        get_backend(gemini_config)
    from arcray.llm import parse_backend_config

    with pytest.raises(ConfigError, match="GOOGLE_API_KEY"):
        parse_backend_config(gemini_config).preflight()
    assert fake_gemini.request_count == 0


def test_google_api_key_works_too(fake_gemini, gemini_config, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY")
    monkeypatch.setenv("GOOGLE_API_KEY", "other-key-123")
    with get_backend(gemini_config) as backend:
        assert ask(backend).ok
    assert fake_gemini.requests[0].headers["x-goog-api-key"] == "other-key-123"


def test_the_key_never_appears_in_logs_or_records(fake_gemini, gemini_config, caplog):
    caplog.set_level(logging.DEBUG)
    # A server that echoes the key back in its error must not get it into our records.
    fake_gemini.script(Reply.error(503, message=f"bad key {API_KEY}"), Reply.error(403, message=f"denied {API_KEY}"))
    with get_backend(gemini_config) as backend:
        completion = ask(backend)
        report = backend.report()
    assert completion.error_kind == "client_error" and "[redacted]" in completion.error
    recorded = json.dumps(completion.to_dict()) + json.dumps(report) + caplog.text
    assert API_KEY not in recorded
    assert API_KEY not in json.dumps(backend.config.model_dump(mode="json"))


def test_usage_and_estimated_cost(fake_gemini, gemini_config):
    fake_gemini.handler = lambda request: Reply.text("a b c", prompt_tokens=1000, completion_tokens=3000)
    prices = {"gemini-2.5-flash": {"prompt_per_million": 1.0, "completion_per_million": 10.0}}
    with get_backend({**gemini_config, "prices": prices}) as backend:
        backend.generate(["x", "y"], SamplingParams(n=2))
        report = backend.report()
    usage = report["usage"]
    assert usage["completions"] == 4 and usage["prompt_tokens"] == 4000 and usage["completion_tokens"] == 12000
    assert usage["total_tokens"] == 16000
    assert usage["estimated_cost_usd"] == pytest.approx(4000 * 1e-6 + 12000 * 10e-6)


def test_a_model_without_a_price_has_no_cost(fake_gemini, gemini_config):
    with get_backend({**gemini_config, "model": "gemini-9-ultra"}) as backend:
        ask(backend)
        assert backend.report()["usage"]["estimated_cost_usd"] is None
    with get_backend({**gemini_config, "model": "gemini-2.5-flash-preview-05-20"}) as backend:
        assert backend.price == backend.config.prices["gemini-2.5-flash"]  # dated variants match


def test_ignore_eos_is_refused(fake_gemini, gemini_config):
    with get_backend(gemini_config) as backend, pytest.raises(ConfigError, match="ignore_eos"):
        ask(backend, ignore_eos=True)
