"""The ARC data engine: verified fine-tuning examples multiplied from a collection (see :mod:`arcray.engine.derive`)."""

from arcray.engine.config import EngineConfig
from arcray.engine.derive import KINDS, Derived, EngineResult, derive

__all__ = ["KINDS", "Derived", "EngineConfig", "EngineResult", "derive"]
