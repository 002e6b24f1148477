"""``timeout_s`` is a deadline for a whole request, whatever the server does.

A server that drips its answer, one byte at a time with pauses shorter than the timeout, never
trips a per-read timeout: before arcray.llm.deadline it held a 5 s request for minutes. Each
server here drips its headers or its body at one byte every 0.3 s and counts what it sent; the
request must end at its 1 s deadline, so the server has sent only a few bytes (a count, not a
clock, is asserted).
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from arcray.llm import SamplingParams, get_backend
from tests.fake_gemini import API_KEY

BODY = b'{"candidates": [{"content": {"parts": [{"text": "late"}], "role": "model"}, "finishReason": "STOP"}]}'
HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(BODY)
PAUSE_S = 0.3


class Dripping(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests += 1
        what = HEADERS + BODY if self.server.part == "headers" else BODY
        if self.server.part == "body":
            self.wfile.write(HEADERS)
            self.wfile.flush()
        for byte in what:  # bounded: the whole answer takes len(what) x PAUSE_S at most
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:  # the client gave up and closed the connection
                return
            self.server.sent += 1
            time.sleep(PAUSE_S)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(params=["headers", "body"])
def dripping(request, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Dripping)
    server.part, server.sent, server.requests = request.param, 0, 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("GEMINI_API_KEY", API_KEY)
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("backend", ["gemini", "openai"])
def test_a_dripping_server_cannot_hold_a_request_past_its_deadline(dripping, backend):
    config = {"backend": backend, "model": "gemini-2.5-flash", "timeout_s": 1.0, "retry": {"max_attempts": 1}}
    if backend == "openai":
        config.update(base_url=f"http://127.0.0.1:{dripping.server_address[1]}/v1", api_key_env=None)
    with get_backend(config) as backend_:
        [[completion]] = backend_.generate(["hello"], SamplingParams())
    assert not completion.ok and completion.error_kind == "retries_exhausted", completion
    assert dripping.requests == 1
    # 1 s at one byte per 0.3 s is about 4 bytes; the whole answer is over 100: it was cut off, not waited out
    assert dripping.sent <= 12, dripping.sent
