"""Shared fixtures: a local CPU Ray for the tests that need one."""

from __future__ import annotations

import pytest


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
