"""The openai backend through the real openai SDK against a real server: `transformers serve` on a tiny
random Llama, started on 127.0.0.1 for the session. Error paths use a closed port, the real server's
own 400, and a small HTTP server that only fails (for Retry-After and an echoed key)."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from arcray.errors import ConfigError
from arcray.llm import SamplingParams, get_backend

CANARY = "sk-canary-7f3b9c1e-never-record-me"
SERVE_DEADLINE_S = 120.0  # loading torch, transformers and the model on a busy 2-core host


@dataclass(frozen=True)
class Served:
    base_url: str  # ends in /v1
    model: str  # the folder the server is pinned to: the only model name it accepts


def _tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:]) or "(no output)"


def _wait_until_served(process: subprocess.Popen, log_path: Path) -> str:
    """The server's root URL once /health answers; fails with the server's output otherwise."""
    deadline = time.monotonic() + SERVE_DEADLINE_S
    root = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"transformers serve exited with {process.returncode}:\n{_tail(log_path)}")
        if root is None:
            match = re.search(r"Uvicorn running on (http://[\d.]+:\d+)", log_path.read_text(errors="replace"))
            root = match.group(1) if match else None
        if root is not None:
            try:
                with urllib.request.urlopen(f"{root}/health", timeout=2) as response:
                    if response.status == 200:
                        return root
            except OSError:
                pass
        time.sleep(0.2)
    pytest.fail(f"transformers serve was not ready within {SERVE_DEADLINE_S:g} s:\n{_tail(log_path)}")


@pytest.fixture(scope="session")
def served_llama(tiny_llama: Path, tmp_path_factory: pytest.TempPathFactory) -> Served:
    """`transformers serve` pinned to the tiny Llama folder, on a port the OS picks (read from its log)."""
    log_path = tmp_path_factory.mktemp("transformers-serve") / "serve.log"
    command = [
        sys.executable, "-m", "transformers.cli.transformers", "serve", str(tiny_llama),
        "--host", "127.0.0.1", "--port", "0", "--device", "cpu",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_UPDATE_CHECK": "1", "CUDA_VISIBLE_DEVICES": ""}
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    try:
        root = _wait_until_served(process, log_path)
        yield Served(base_url=f"{root}/v1", model=str(tiny_llama))
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(autouse=True)
def canary_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs with a key set: it must reach the server and nothing else."""
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    return CANARY


def config(served: Served, **fields):
    """Fast retries for tests: three attempts, 10-50 ms apart."""
    return {
        "backend": "openai",
        "model": served.model,
        "base_url": served.base_url,
        "timeout_s": 60.0,
        "max_concurrency": 4,
        "retry": {"max_attempts": 3, "initial_delay_s": 0.01, "max_delay_s": 0.05},
        **fields,
    }


def ask(backend, prompt, **params):
    [[completion]] = backend.generate([prompt], SamplingParams(**params))
    return completion


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


CHAT = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello world"}]
NOWHERE = Served(base_url="http://127.0.0.1:9/v1", model="tiny")  # for tests that send nothing


def test_chat_and_text_prompts(served_llama):
    params = SamplingParams(max_new_tokens=8)
    with get_backend(config(served_llama)) as backend:
        chat, text = [row[0] for row in backend.generate([CHAT, "hello world"], params)]
    with get_backend(config(served_llama, text_prompts="chat")) as backend:
        [[as_chat]] = backend.generate(["hello world"], params)
    for completion in (chat, text, as_chat):
        assert completion.ok, completion.error
        assert completion.finish_reason in ("stop", "length") and completion.attempts == 1
        assert completion.prompt_tokens > 0 and 0 < completion.completion_tokens <= 8
    # Raw text skips the chat template, so it is shorter than the same words as a user turn.
    assert text.prompt_tokens < as_chat.prompt_tokens < chat.prompt_tokens


def test_n_samples_fall_back_to_one_request_each_when_the_server_ignores_n(served_llama, caplog):
    caplog.set_level(logging.WARNING, logger="arcray.llm.openai_api")
    params = SamplingParams(n=3, temperature=0.7, max_new_tokens=4, seed=5)
    with get_backend(config(served_llama)) as backend:  # n_in_one_request: transformers serve answers 1 choice
        [first] = backend.generate(["hello"], params)
        [second] = backend.generate(["hello"], params)
        assert backend.usage.requests == 6 and backend.usage.completions == 6
    assert len(first) == len(second) == 3 and all(c.ok for c in first + second)
    assert caplog.text.count("answered 1 of n=3 choices") == 1  # remembered after the first time
    limits = {"requests_per_minute": 600, "burst_s": 0.1}  # one request at once, then one per 0.1 s
    with get_backend(config(served_llama, n_in_one_request=False, rate_limit=limits)) as backend:
        started = time.monotonic()
        [row] = backend.generate(["hello"], params)
        elapsed = time.monotonic() - started
        assert len(row) == 3 and backend.usage.requests == 3
    assert elapsed >= 0.18  # the shared limiter spaced the three requests


def test_stop_strings_cut_the_text(served_llama):
    with get_backend(config(served_llama)) as backend:
        full = ask(backend, CHAT, max_new_tokens=24)
        assert full.ok and len(full.text) >= 4, full
        k = next(k for k in range(1, len(full.text) - 1) if full.text.index(full.text[k : k + 2]) == k)
        stop = full.text[k : k + 2]
        stopped = ask(backend, CHAT, max_new_tokens=24, stop=[stop, "never-generated"])
    assert stopped.ok and stopped.text == full.text[:k] and stopped.finish_reason == "stop"
    assert stopped.completion_tokens < full.completion_tokens  # the server stopped, not only our cut


def test_token_usage_report_and_cost(served_llama):
    prices = {served_llama.model[:10]: {"prompt_per_million": 1.0, "completion_per_million": 2.0}}
    with get_backend(config(served_llama, prices=prices)) as backend:
        rows = backend.generate([CHAT, "hello"], SamplingParams(max_new_tokens=4))
        report = backend.report()
    completions = [c for row in rows for c in row]
    usage = report["usage"]
    assert usage["prompt_tokens"] == sum(c.prompt_tokens for c in completions) > 0
    assert usage["completion_tokens"] == sum(c.completion_tokens for c in completions) > 0
    assert usage["requests"] == 2 and usage["failures"] == 0
    assert usage["estimated_cost_usd"] == pytest.approx((usage["prompt_tokens"] + 2 * usage["completion_tokens"]) / 1e6)
    assert {k: report[k] for k in ("backend", "model", "base_url")} == {
        "backend": "openai", "model": served_llama.model, "base_url": served_llama.base_url,
    }
    with get_backend(config(served_llama)) as backend:
        assert backend.report()["usage"]["estimated_cost_usd"] is None  # no price table entry: unknown


def test_a_client_error_is_recorded_not_retried(served_llama):
    with get_backend(config(served_llama, model="some-other-model")) as backend:
        completion = ask(backend, CHAT, max_new_tokens=4)
    assert completion.error_kind == "client_error" and completion.attempts == 1
    assert completion.error.startswith("HTTP 400: ") and "pinned" in completion.error


def test_an_unreachable_endpoint_exhausts_the_retries(served_llama):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    with get_backend(config(served_llama, base_url=url)) as backend:
        rows = backend.generate([CHAT], SamplingParams(n=2, max_new_tokens=4))
        usage = backend.usage
    first, second = rows[0]
    assert first.error_kind == second.error_kind == "unreachable" and first.finish_reason == "error"
    assert first.error.startswith(f"gave up after 3 attempts; cannot reach {url} (")
    assert first.attempts == 3 and second.attempts == 0 and usage.requests == 3 and usage.failures == 2


class _FailingHandler(BaseHTTPRequestHandler):
    """503 with Retry-After, and a body that echoes the Authorization header as a careless server might."""

    def do_POST(self) -> None:
        self.server.arrivals.append(time.monotonic())
        body = json.dumps({"error": {"message": f"overloaded; you sent {self.headers.get('Authorization')}"}})
        self.send_response(503)
        self.send_header("Retry-After", "1")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def failing_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FailingHandler)
    server.arrivals = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_retry_after_is_honoured_and_the_key_never_recorded(served_llama, failing_server, caplog):
    caplog.set_level(logging.DEBUG)
    url = f"http://127.0.0.1:{failing_server.server_address[1]}/v1"
    with get_backend(config(served_llama, base_url=url, retry={"max_attempts": 2, "initial_delay_s": 0.01})) as failing:
        failed = ask(failing, "hello", max_new_tokens=4)
        failed_report = failing.report()
    gap = failing_server.arrivals[1] - failing_server.arrivals[0]
    assert gap >= 0.95  # the server's Retry-After: 1, not the 10 ms backoff
    assert failed.error_kind == "retries_exhausted" and "HTTP 503: overloaded" in failed.error
    assert "[redacted]" in failed.error
    with get_backend(config(served_llama)) as backend:
        rows = backend.generate([CHAT, "hello"], SamplingParams(n=2, max_new_tokens=4))
        identity, report = backend.identity, backend.report()
    recorded = json.dumps([c.to_dict() for row in rows for c in row] + [failed.to_dict()])
    recorded += json.dumps([identity, report, failed_report, backend.config.model_dump(mode="json")])
    assert CANARY not in recorded and CANARY not in caplog.text


def test_config_errors_are_one_line(monkeypatch):
    with pytest.raises(ConfigError, match=r"unknown key 'max_concurency' \(did you mean 'max_concurrency'\?\)"):
        get_backend(config(NOWHERE, max_concurency=2))
    with pytest.raises(ConfigError, match=r"unknown key 'api_key' \(did you mean 'api_key_env'\?\)"):
        get_backend(config(NOWHERE, api_key=CANARY))
    with pytest.raises(ConfigError, match="not hold the key itself") as refused:
        get_backend(config(NOWHERE, api_key_env=CANARY))
    assert CANARY not in str(refused.value)
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(ConfigError, match=r"^no API key for https://models.example.com/v1: set OPENAI_API_KEY "):
        get_backend(config(NOWHERE, base_url="https://models.example.com/v1"))
    with pytest.raises(ConfigError, match="set MY_SERVER_KEY"):
        get_backend(config(NOWHERE, base_url="https://models.example.com/v1", api_key_env="MY_SERVER_KEY"))
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ConfigError, match="needs base_url .* or OPENAI_BASE_URL"):
        get_backend("openai", model="m")


def test_a_loopback_server_needs_no_key(served_llama, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("OPENAI_BASE_URL", served_llama.base_url)  # base_url unset: from the environment
    with get_backend("openai", model=served_llama.model) as backend:
        assert ask(backend, "hello", max_new_tokens=2).ok


def test_a_missing_sdk_is_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "openai", None)  # what `import openai` meets when it is not installed
    with pytest.raises(ConfigError, match=r"pip install 'arcray\[openai\]'"):
        get_backend(config(NOWHERE))


def test_importing_arcray_llm_leaves_the_sdk_alone():
    code = "import sys, arcray.llm; assert 'openai' not in sys.modules, 'openai imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


def test_n_choices_of_one_request_share_its_counts():
    """vLLM and SGLang answer n choices in one response, with one usage for all of them."""
    from openai.types.chat import ChatCompletion

    response = ChatCompletion.model_validate({
        "id": "x", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [
            {"index": 1, "finish_reason": "length", "message": {"role": "assistant", "content": "bb bb"}},
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "a"}},
            {"index": 2, "finish_reason": "stop", "message": {"role": "assistant", "content": None}},
        ],
        "usage": {"prompt_tokens": 7, "completion_tokens": 12, "total_tokens": 19},
    })
    with get_backend(config(NOWHERE)) as backend:
        completions = backend._parse(response, 2, True, SamplingParams(n=3, stop=["b b"]), 3)
    assert [c.text for c in completions] == ["a", "b", ""]
    assert [c.finish_reason for c in completions] == ["stop", "stop", "error"]
    assert completions[2].error_kind == "no_text"
    assert [c.prompt_tokens for c in completions] == [7, 0, 0] and [c.attempts for c in completions] == [2, 0, 0]
    assert sum(c.completion_tokens for c in completions) == 12
