"""Registries whose entries are modules: importing every module of a package once."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable


def import_modules(package: str, path: Iterable[str], *, skip: tuple[str, ...] = ("registry",)) -> None:
    """Import each public module of ``package`` (its ``__path__`` is ``path``) except ``skip``.

    Each such module registers its entry (a task source, a category) when imported, so adding
    one is one new file and no edit to a list of imports.
    """
    for module in pkgutil.iter_modules(list(path)):
        if module.name not in skip and not module.name.startswith("_"):
            importlib.import_module(f"{package}.{module.name}")
