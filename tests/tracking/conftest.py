"""Tracking tests run with the embedded default (MLflow) the rest of the suite turns off."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def mlflow_by_default(monkeypatch):
    monkeypatch.setenv("ARCRAY_TRACKING", "mlflow")
