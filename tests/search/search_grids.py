"""Hand-made grids for the search tests, written as rows of digits."""

from __future__ import annotations

import numpy as np


def grid(text: str) -> np.ndarray:
    """A grid from rows of digits separated by slashes, e.g. grid("120 / 003")."""
    return np.array([[int(cell) for cell in row.strip()] for row in text.split("/")])


def same(actual: np.ndarray, text: str) -> bool:
    """Whether the array equals the grid written as text (shape included)."""
    expected = grid(text)
    return actual.shape == expected.shape and bool((actual == expected).all())
