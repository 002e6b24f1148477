"""A whole-request deadline for the HTTP client under the Gemini SDK.

httpx's timeouts are per operation: a read waits at most ``timeout`` for the next bytes, so a
server that sends one byte every two seconds holds a request with ``timeout_s: 5`` for as long as
it likes (241 s was measured), in its headers or its body. httpx has no total timeout, so this
network backend clamps every connect, TLS handshake, read and write to the time left before the
deadline the calling thread set with :func:`deadline`: whatever the server does, a request ends
by then with the client's own timeout error, which the backend already classifies and retries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_local = threading.local()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every request this thread makes inside the block ends within ``seconds`` of entering it."""
    previous = getattr(_local, "at", None)
    _local.at = time.monotonic() + seconds
    try:
        yield
    finally:
        _local.at = previous


def _clamped(timeout: float | None, error: type[Exception]) -> float | None:
    at = getattr(_local, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error("the request's deadline passed")
    return left if timeout is None else min(timeout, left)


class _Stream:
    def __init__(self, inner: Any, errors: Any) -> None:
        self._inner, self._errors = inner, errors

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamped(timeout, self._errors.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamped(timeout, self._errors.WriteTimeout))

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> _Stream:
        inner = self._inner.start_tls(ssl_context, server_hostname, _clamped(timeout, self._errors.ConnectTimeout))
        return _Stream(inner, self._errors)

    def close(self) -> None:
        self._inner.close()

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend:
    def __init__(self, inner: Any, errors: Any) -> None:
        self._inner, self._errors = inner, errors

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> _Stream:
        stream = self._inner.connect_tcp(host, port, _clamped(timeout, self._errors.ConnectTimeout), local_address, socket_options)
        return _Stream(stream, self._errors)

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> _Stream:
        stream = self._inner.connect_unix_socket(path, _clamped(timeout, self._errors.ConnectTimeout), socket_options)
        return _Stream(stream, self._errors)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def deadline_transport() -> Any | None:
    """An HTTP transport of the library the SDK uses (httpx2, else httpx) whose connections keep
    :func:`deadline`; None when neither is installed. It wraps the connection pool's network
    backend, which httpx does not expose as an option (hence the private attribute)."""
    for client_name, core_name in (("httpx2", "httpcore2"), ("httpx", "httpcore")):
        try:
            client, core = __import__(client_name), __import__(core_name)
        except ImportError:
            continue
        transport = client.HTTPTransport()
        pool = transport._pool
        pool._network_backend = _Backend(pool._network_backend, core)
        return transport
    return None
