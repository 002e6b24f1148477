"""arcray: a Ray-based platform for distilling reasoning into small open models."""

__version__ = "0.1.0"
