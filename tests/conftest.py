"""Shared fixtures: a local CPU Ray for the tests that need one."""

from __future__ import annotations

import os

import pytest

# Stages log to MLflow by default (a SQLite store in each run directory: seconds per stage to create).
# The suite's stage runs record into their run directories only; tests/tracking turns it back on
# and checks the store itself, and through a real stage.
os.environ["ARCRAY_TRACKING"] = "none"


@pytest.fixture(scope="session")
def local_ray():
    """One local Ray for the whole session (starting Ray costs seconds on 2 cores)."""
    import ray

    from arcray.runtime.ray_setup import ensure_ray

    if not ray.is_initialized():
        ensure_ray(num_cpus=2)
    yield ray
    ray.shutdown()


from fake_gemini import fake_gemini  # noqa: E402,F401  (the fixture, for every test folder)
