"""Task sources by name (see ``registry.py``): each kind is one module of this package that
registers itself when imported, and this file imports every one of them, so adding a source
kind is one new file (and its test) and no edit here."""

from __future__ import annotations

import importlib
import pkgutil

from arcray.arc.sources.registry import (
    TaskSource,
    all_sources,
    existing_path,
    get_source,
    register_source,
    resolve,
    source_names,
)


def _import_source_modules() -> None:
    for module in pkgutil.iter_modules(__path__):
        if module.name != "registry" and not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")


_import_source_modules()

__all__ = ["TaskSource", "all_sources", "existing_path", "get_source", "register_source", "resolve", "source_names"]
