"""ARC augmentation: verified fine-tuning examples multiplied from a collection (see :mod:`arcray.augment.derive`)."""

from arcray.augment.config import AugmentConfig
from arcray.augment.derive import KINDS, Derived, Augmented, derive

__all__ = ["KINDS", "Derived", "AugmentConfig", "Augmented", "derive"]
