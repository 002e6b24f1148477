"""Fixtures for training: a tiny Llama that bitsandbytes can quantise, and a prepared chat dataset."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.llm.tiny_models import build_tiny_llama  # noqa: E402

QUESTIONS = 16  # 12 land in train, 4 in validation with val_fraction 0.25 and seed 0


def chat_records(count: int = QUESTIONS) -> list[dict]:
    """Self-consistency records (prompt, response) of varied lengths."""
    records = []
    for i in range(count):
        a, b = i % 5, (i * 3) % 7
        records.append({
            "id": i,
            "prompt": [{"role": "system", "content": "answer briefly"}, {"role": "user", "content": f"what is {a} plus {b}?"}],
            "response": f"{a} plus {b} is {a + b}. " + "the quick brown fox " * (i % 4),
        })
    return records


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Hidden size 64: bitsandbytes' 4-bit blocks fit, so the QLoRA path runs for real."""
    return build_tiny_llama(tmp_path_factory.mktemp("tiny-base"), hidden_size=64)


@pytest.fixture(scope="session")
def chat_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """DATA_DIR written by `arcray prepare` from a self-consistency JSONL."""
    from arcray.training.prepare import PrepareConfig, run_prepare

    root = tmp_path_factory.mktemp("chat-data")
    source = root / "sc.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in chat_records()))
    stats = run_prepare(PrepareConfig(sources=[source], out=root / "data", val_fraction=0.25))
    assert stats["train"] and stats["validation"]
    return root / "data"


@pytest.fixture(scope="session")
def train_only_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from arcray.training.prepare import PrepareConfig, run_prepare

    root = tmp_path_factory.mktemp("train-only")
    source = root / "sc.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in chat_records(4)))
    run_prepare(PrepareConfig(sources=[source], out=root / "data", val_fraction=0.0))
    return root / "data"
