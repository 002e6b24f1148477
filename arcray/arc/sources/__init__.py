"""Task sources by name (see ``registry.py``): each kind is one module of this package that
registers itself when imported, and this file imports every one of them, so adding a source
kind is one new file (and its test) and no edit here."""

from __future__ import annotations

from arcray.arc.sources.registry import (
    TaskSource,
    all_sources,
    existing_path,
    get_source,
    register_source,
    resolve,
    source_names,
)
from arcray.plugins import import_modules


import_modules(__name__, __path__)

__all__ = ["TaskSource", "all_sources", "existing_path", "get_source", "register_source", "resolve", "source_names"]
