"""Fixtures for the search tests."""

from __future__ import annotations

import pytest

from arcray.search.tasks import load_tasks


@pytest.fixture(scope="session")
def train_tasks() -> dict:
    """The arc1/train tasks by id."""
    return {task.id: task for task in load_tasks("arc1/train")}
