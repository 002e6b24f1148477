"""Fixtures for the generation layer: the fake Gemini server and tiny local models built here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# `tests.fake_gemini` must import however pytest is started (plain `pytest` does not put the
# repository root on sys.path).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.fake_gemini import FakeGemini, fake_gemini  # noqa: E402  (the fixture, re-exported)
from tests.llm.tiny_models import build_tiny_llama  # noqa: E402


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def eos_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_llama(tmp_path_factory.mktemp("eos-llama"), eos_first=True)


@pytest.fixture(scope="session")
def tiny_backend(tiny_llama: Path):
    from arcray.llm import get_backend

    backend = get_backend("hf", model=str(tiny_llama), device="cpu")
    yield backend
    backend.close()


@pytest.fixture
def gemini_config():
    """Fast retries and timeouts for tests against the fake server."""
    return {
        "backend": "gemini",
        "model": "gemini-2.5-flash",
        "timeout_s": 1.0,
        "max_concurrency": 4,
        "retry": {"max_attempts": 3, "initial_delay_s": 0.01, "max_delay_s": 0.05},
    }


__all__ = ["FakeGemini", "fake_gemini"]
