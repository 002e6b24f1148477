"""The key never reaches a file, whatever route it takes: here a server that echoes it in every answer.

A hostile or misconfigured endpoint (an OpenAI-compatible proxy, say) can put the API key it
received into the text it returns; the raw completion is recorded and cached. Run as a user runs
it (`arcray collect` against the fake Gemini server, the response cache on), then read every file
the run and the cache wrote.
"""

import json
import os
import subprocess
import sys

from fake_gemini import API_KEY

from arcray.redaction import register, scrub

IDS = ["3c9b0459", "6150a2bd"]


def echo_the_key(request):
    key = request.headers.get("x-goog-api-key", "")
    return f"Your key is {key}.\n```python\ndef solve(grid):\n    # {key}\n    return [row[::-1] for row in grid[::-1]]\n```\n"


def test_a_server_echoing_the_key_puts_it_in_no_file(fake_gemini, tmp_path):
    fake_gemini.handler = echo_the_key
    out, cache = tmp_path / "run", tmp_path / "cache"
    env = {**os.environ, **fake_gemini.env(), "ARCRAY_CACHE_DIR": str(cache), "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "arcray", "collect", "--tasks", "arc1/train", "--ids", ",".join(IDS), "--teacher", "gemini",
         "--model", "gemini-2.5-flash", "--max-generations", "1", "--population", "1", "--concurrency", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert fake_gemini.request_count >= len(IDS)  # the server was asked, and echoed the key each time
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "attempts.jsonl" for p in written) and any(p.parent.parent.parent.name == "responses" for p in written)
    leaked = [str(p) for p in written if API_KEY.encode() in p.read_bytes()]
    assert leaked == []
    assert API_KEY not in done.stdout + done.stderr
    # what was kept is the answer, with the key replaced
    records = [json.loads(line) for line in (out / "attempts.jsonl").read_text().splitlines()]
    assert len(records) == len(IDS) and "[GEMINI_API_KEY redacted]" in json.dumps(records)
    assert all(r["fitness"] > 0 for r in records if r["task_id"] == "3c9b0459")


def test_scrub_covers_every_secret_variable_and_registered_keys(monkeypatch):
    monkeypatch.setenv("MY_PROXY_API_KEY", "sk-proxy-0123456789")
    monkeypatch.setenv("SHORT_TOKEN", "abc")  # too short to be a key: left alone
    register("held-by-a-backend-42", "a backend's key")
    text = 'a "sk-proxy-0123456789" b held-by-a-backend-42 c abc'
    assert scrub(text) == 'a "[MY_PROXY_API_KEY redacted]" b [a backend\'s key redacted] c abc'
