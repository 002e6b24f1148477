"""A fake Gemini API: a real HTTP server on 127.0.0.1 speaking `models/{model}:generateContent`.

Point the real `google-genai` SDK at it through ``GOOGLE_GEMINI_BASE_URL`` (see
:meth:`FakeGemini.env`) and script what it answers, request by request:

    with FakeGemini() as server:
        server.script(Reply.error(429, retry_delay="1s"), Reply.text("42"))
        ...                       # run the code under test with server.env() applied
        assert server.request_count == 2

Replies are taken from the script first (a FIFO queue); once it is empty, ``handler``
(a function of the :class:`RecordedRequest`) answers, returning a :class:`Reply` or plain
text; without a handler the server echoes the last user text. Every request is recorded
with its arrival time, so tests can check delays the client waited between attempts.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

API_KEY = "fake-gemini-key-3f9a1c"  # tests assert it never leaks into logs or outputs


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    model: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    received_at: float  # time.monotonic() on arrival

    @property
    def user_text(self) -> str:
        """The text of the last user turn (what a handler usually answers)."""
        contents = (self.body or {}).get("contents") or []
        for content in reversed(contents):
            if content.get("role", "user") == "user":
                return "".join(part.get("text", "") for part in content.get("parts", []))
        return ""

    @property
    def generation_config(self) -> dict[str, Any]:
        return (self.body or {}).get("generationConfig") or {}

    @property
    def system_text(self) -> str:
        instruction = (self.body or {}).get("systemInstruction") or {}
        return "".join(part.get("text", "") for part in instruction.get("parts", []))


@dataclass(frozen=True)
class Reply:
    """A scripted answer: HTTP status, body (JSON-able, or raw text sent as is) and a delay."""

    status: int = 200
    body: Any = None
    delay_s: float = 0.0  # sleep before answering; longer than the client's timeout makes a hang

    @staticmethod
    def text(
        text: str,
        *,
        finish_reason: str = "STOP",
        prompt_tokens: int = 10,
        completion_tokens: int | None = None,
        thoughts_tokens: int = 0,
    ) -> Reply:
        completion = completion_tokens if completion_tokens is not None else max(1, len(text.split()))
        return Reply(body=_response([{"text": text}], finish_reason, prompt_tokens, completion, thoughts_tokens))

    @staticmethod
    def thought_signature_only(*, finish_reason: str = "MAX_TOKENS") -> Reply:
        """A candidate whose only part carries a thoughtSignature (thinking used the whole budget)."""
        return Reply(body=_response([{"thoughtSignature": "c2lnbmF0dXJl"}], finish_reason, 10, 0, 64))

    @staticmethod
    def no_candidates(block_reason: str | None = None) -> Reply:
        body: dict[str, Any] = {"usageMetadata": {"promptTokenCount": 10, "totalTokenCount": 10}}
        if block_reason:
            body["promptFeedback"] = {"blockReason": block_reason}
        return Reply(body=body)

    @staticmethod
    def safety_block() -> Reply:
        """A candidate stopped by the safety filter, with no content."""
        body = _response([], "SAFETY", 10, 0, 0)
        body["candidates"][0].pop("content")
        return Reply(body=body)

    @staticmethod
    def error(
        code: int, status: str | None = None, message: str = "scripted error", retry_delay: str | None = None
    ) -> Reply:
        """A Google API error body; ``retry_delay`` (e.g. "1s") adds a google.rpc.RetryInfo detail."""
        error: dict[str, Any] = {"code": code, "message": message, "status": status or _STATUS.get(code, "UNKNOWN")}
        if retry_delay is not None:
            error["details"] = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}]
        return Reply(status=code, body={"error": error})

    @staticmethod
    def malformed() -> Reply:
        """A 200 whose body is not JSON."""
        return Reply(body='{"candidates": [ this is not json')

    @staticmethod
    def hang(seconds: float, then: Reply | None = None) -> Reply:
        """Answer only after ``seconds`` (the client should time out first)."""
        then = then or Reply.text("too late")
        return Reply(status=then.status, body=then.body, delay_s=seconds)


_STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def _response(parts: list[dict], finish_reason: str, prompt: int, completion: int, thoughts: int) -> dict[str, Any]:
    usage = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": completion,
        "totalTokenCount": prompt + completion + thoughts,
    }
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return {
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish_reason, "index": 0}],
        "usageMetadata": usage,
        "modelVersion": "fake",
    }


Handler = Callable[[RecordedRequest], "Reply | str"]


class FakeGemini:
    """The server; use as a context manager or call :meth:`start` / :meth:`stop`."""

    def __init__(self, handler: Handler | None = None) -> None:
        self.handler = handler
        self.requests: list[RecordedRequest] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting -------------------------------------------------------------------------
    def script(self, *replies: Reply | str) -> None:
        """Queue replies, answered in order before ``handler`` takes over."""
        with self._lock:
            self._script.extend(Reply.text(r) if isinstance(r, str) else r for r in replies)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._script.clear()

    def gaps(self) -> list[float]:
        """Seconds between consecutive requests' arrivals."""
        times = [r.received_at for r in self.requests]
        return [b - a for a, b in itertools.pairwise(times)]

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def env(self, api_key: str | None = API_KEY) -> dict[str, str]:
        """Environment that points the SDK here (apply with monkeypatch.setenv)."""
        env = {"GOOGLE_GEMINI_BASE_URL": self.base_url}
        if api_key is not None:
            env["GEMINI_API_KEY"] = api_key
        return env

    def start(self) -> FakeGemini:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                fake._serve(self)

            def do_GET(self) -> None:
                fake._serve(self)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-gemini", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # cuts scripted hangs short
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGemini:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving ---------------------------------------------------------------------------
    def _serve(self, http: BaseHTTPRequestHandler) -> None:
        arrived = time.monotonic()
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = None
        path = http.path.split("?", 1)[0]
        model = path.rsplit("/models/", 1)[-1].split(":", 1)[0] if "/models/" in path else ""
        request = RecordedRequest(
            method=http.command,
            path=path,
            model=model,
            headers={k.lower(): v for k, v in http.headers.items()},
            body=body,
            received_at=arrived,
        )
        with self._lock:
            self.requests.append(request)
            scripted = self._script.popleft() if self._script else None
        reply = scripted or self._answer(request)
        if not path.endswith(":generateContent") and scripted is None:
            reply = Reply.error(404, message=f"the fake serves only models/{{model}}:generateContent, not {path}")
        if reply.delay_s and self._stopping.wait(reply.delay_s):
            return
        payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
        data = payload.encode()
        try:
            http.send_response(reply.status)
            http.send_header("Content-Type", "application/json; charset=UTF-8")
            http.send_header("Content-Length", str(len(data)))
            http.end_headers()
            http.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing left to do

    def _answer(self, request: RecordedRequest) -> Reply:
        if self.handler is None:
            return Reply.text(f"echo: {request.user_text}")
        answer = self.handler(request)
        return Reply.text(answer) if isinstance(answer, str) else answer


@pytest.fixture
def fake_gemini(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGemini]:
    """A started server with the SDK's environment pointed at it (key: :data:`API_KEY`)."""
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    with FakeGemini() as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        yield server


__all__ = ["API_KEY", "FakeGemini", "RecordedRequest", "Reply", "fake_gemini"]
