"""`arcray generate` against the fake Gemini server and on local models."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from arcray.cli import main
from tests.fake_gemini import API_KEY, Reply


def test_generate_against_the_fake_server_as_a_user_runs_it(fake_gemini):
    fake_gemini.handler = lambda request: f"you said {request.user_text!r} to {request.model}"
    command = [sys.executable, "-m", "arcray", "generate", "--backend", "gemini", "--model", "gemini-2.5-flash",
               "--prompt", "What is 2+3?", "-n", "2", "--temperature", "0.7", "--json"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy(), timeout=120)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert [c["text"] for c in out["completions"]] == ["you said 'What is 2+3?' to gemini-2.5-flash"] * 2
    assert out["usage"]["completions"] == 2 and out["usage"]["estimated_cost_usd"] > 0
    assert API_KEY not in result.stdout + result.stderr
    assert fake_gemini.request_count == 2


def test_a_failed_completion_exits_1_with_its_reason(fake_gemini, capsys):
    fake_gemini.script(Reply.thought_signature_only())
    assert main(["generate", "--backend", "gemini", "--prompt", "hi"]) == 1
    assert "[failed: no_text]" in capsys.readouterr().out


def test_generate_errors_are_one_line(monkeypatch, capsys):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    assert main(["generate", "--backend", "gemini", "--prompt", "hi"]) == 2
    assert "set GEMINI_API_KEY" in capsys.readouterr().err
    assert main(["generate", "--backend", "gemni", "--prompt", "hi"]) == 2
    assert "did you mean 'gemini'" in capsys.readouterr().err
    assert main(["generate", "--backend", "hf", "--prompt", "hi", "-n", "0"]) == 2
    assert "n: Input should be greater than or equal to 1" in capsys.readouterr().err


def test_generate_on_a_local_model_with_the_cache(tiny_llama, tmp_path, capsys):
    args = ["generate", "--backend", "hf", "--model", str(tiny_llama), "--prompt", "hello", "--raw",
            "--max-new-tokens", "5", "--cache", str(tmp_path / "cache"), "--json"]  # fmt: skip
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(args) == 0
    second = json.loads(capsys.readouterr().out)
    assert first["completions"][0]["completion_tokens"] == 5 and first["usage"]["cached"] == 0
    assert second["usage"]["cached"] == 1 and second["completions"][0]["text"] == first["completions"][0]["text"]
