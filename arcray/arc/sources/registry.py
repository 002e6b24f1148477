"""Task sources by name: a spec string in, validated tasks out.

A spec is ``NAME:ARG`` for any registered source (``rearc:FOLDER``, ``kaggle:FILE``, …), or a
bare spec a source recognises: a bundled set name such as ``arc1/train``, an existing folder,
an existing JSON file. Fixed names win over paths, so ``arc1/train`` is the bundled set even
where a folder of that name exists.

Each kind lives in its own module of this package and registers itself with
:func:`register_source`; the package imports every such module, so adding a source kind is one
new file (and its test).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from arcray.arc.task_format import Task
from arcray.errors import ConfigError, TaskFormatError, did_you_mean

Loader = Callable[[str], Sequence[Task]]


@dataclass(frozen=True)
class TaskSource:
    """One kind of source: ``load(ARG)`` for the spec ``name:ARG`` (or a bare spec it recognises)."""

    name: str
    syntax: str  # how a spec names it, for help texts and errors
    summary: str
    load: Loader
    bare_names: tuple[str, ...] = ()  # fixed specs it answers to without the prefix
    recognises: Callable[[str], bool] | None = None  # other bare specs it takes (an existing path)


_SOURCES: dict[str, TaskSource] = {}
_NAME = re.compile(r"[a-z][a-z0-9_]*")


def register_source(
    name: str,
    *,
    syntax: str,
    summary: str,
    bare_names: Sequence[str] = (),
    recognises: Callable[[str], bool] | None = None,
) -> Callable[[Loader], Loader]:
    """Decorate ``load(arg) -> tasks`` to make ``name:ARG`` a task source."""
    if not _NAME.fullmatch(name):
        raise ConfigError(f"task source name {name!r} must be lower-case letters, digits and _ (it prefixes NAME:ARG)")

    def decorate(load: Loader) -> Loader:
        if name in _SOURCES and _SOURCES[name].load is not load:
            raise ConfigError(f"task source {name!r} is already registered; pick another name")
        _SOURCES[name] = TaskSource(name, syntax, summary, load, tuple(bare_names), recognises)
        return load

    return decorate


def source_names() -> list[str]:
    """The registered source names, each usable as the ``NAME:`` of a spec."""
    return sorted(_SOURCES)


def all_sources() -> list[TaskSource]:
    """Every registered source, by name (for help texts)."""
    return [_SOURCES[name] for name in source_names()]


def get_source(name: str) -> TaskSource:
    """The source registered as ``name``, or TaskFormatError with the closest name."""
    try:
        return _SOURCES[name]
    except KeyError:
        raise TaskFormatError(
            f"unknown task source {name!r}{did_you_mean(name, source_names())}; choose one of {', '.join(source_names())}"
        ) from None


def resolve(spec: str) -> tuple[TaskSource, str]:
    """The source ``spec`` names and the argument to load it with."""
    name, sep, arg = spec.partition(":")
    if sep and name in _SOURCES:
        return _SOURCES[name], arg
    for source in _SOURCES.values():
        if spec in source.bare_names:
            return source, spec
    for source in _SOURCES.values():
        if source.recognises is not None and source.recognises(spec):
            return source, spec
    if sep:
        hint = did_you_mean(name, source_names())
    else:
        hint = did_you_mean(spec, [n for s in _SOURCES.values() for n in s.bare_names])
    if not hint and ("/" in spec or spec.endswith(".json")):
        hint = " (no such file or folder)"
    forms = [s.syntax for s in all_sources()]
    raise TaskFormatError(f"no task source {spec!r}{hint}: give {', '.join(forms[:-1])} or {forms[-1]}")


def existing_path(source: str, arg: str, *, folder: bool) -> Path:
    """``arg`` of ``source:ARG`` as an existing folder (or file), else a one-line error."""
    kind = "folder" if folder else "file"
    if not arg:
        raise TaskFormatError(f"{source}: needs a {kind} after the colon: {source}:{kind.upper()}")
    path = Path(arg).expanduser()
    if not path.exists():
        raise TaskFormatError(f"{source}:{arg}: no such {kind}; check the path")
    if path.is_dir() != folder:
        raise TaskFormatError(f"{source}:{arg}: not a {kind}; {source}: takes a {kind}")
    return path
