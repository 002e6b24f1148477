"""Tracking tests run with the embedded default (MLflow) the rest of the suite turns off, and leave the
process's environment as they found it (MLflow's own calls set MLFLOW_* variables in it)."""

from __future__ import annotations

import os

import pytest

TRACKING_ENV = ("MLFLOW_", "WANDB_", "ARCRAY_TRACKING")


@pytest.fixture(autouse=True)
def mlflow_by_default(monkeypatch):
    before = {k: v for k, v in os.environ.items() if k.startswith(TRACKING_ENV)}
    monkeypatch.setenv("ARCRAY_TRACKING", "mlflow")
    yield
    for key in [k for k in os.environ if k.startswith(TRACKING_ENV)]:
        if key not in before:
            del os.environ[key]
    os.environ.update(before)
