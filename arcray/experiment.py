"""What every experiment script (``experiments/*.py``) shares: its YAML config, and one ``main()``.

A script keeps its own story in ``run(args)``: shaping its config, running its stages, returning
:class:`Finished`. :func:`run_script` owns the rest::

    def main(argv: list[str] | None = None) -> int:
        return run_script(argv, name="tune", doc=__doc__, run=run,
                          config=Path("experiments/configs/tune_smoke.yaml"), smoke_test="two one-epoch trials")

the common flags (``--config``, ``--out``, ``--smoke-test``), an :class:`~arcray.errors.ArcrayError`
as the one line ``NAME: error: …`` (exit code 2), Ctrl-C as one line (130), and the final printing.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from arcray.errors import ConfigError, did_you_mean, exit_code
from arcray.text import printable

EXPERIMENT_CONFIG = "experiment_config.json"  # the resolved experiment config, at the top of its run directory
OVERRIDES_CONFIG = "run directory (overrides the config's)"  # --out's help where the config names the run directory


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = _Required()  # ``config=REQUIRED``: the script has no default config; --config must be given


class Finished:
    """What a script's ``run`` returns: the lines naming its results (printed last), a summary
    printed as indented JSON before them (optional), and the exit code."""

    def __init__(self, *lines: str, summary: dict[str, Any] | None = None, code: int = 0) -> None:
        self.lines, self.summary, self.code = lines, summary, code


def run_script(argv: list[str] | None, *, name: str, doc: str, run: Callable[[argparse.Namespace], Finished],
               config: Path | _Required | None = None, out: str | None = OVERRIDES_CONFIG, out_default: Path | None = None,
               smoke_test: str | None = None,
               add_arguments: Callable[[argparse.ArgumentParser], None] | None = None) -> int:
    """Parse ``argv``, call ``run(args)`` and print what it finished with; the exit code.

    ``name`` starts the script's error lines; ``doc``'s first line describes it. ``config``: the
    default ``--config`` path, ``REQUIRED``, or None for no such flag. ``--out`` is a Path with
    ``out`` as its help and ``out_default`` as its default (None: the script falls back on its
    config's ``out``). ``smoke_test``: what ``--smoke-test`` makes small (None: no such flag).
    ``add_arguments`` adds the script's own flags, after the common ones.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    if config is REQUIRED:
        parser.add_argument("--config", type=Path, required=True)
    elif config is not None:
        parser.add_argument("--config", type=Path, default=config)
    parser.add_argument("--out", type=Path, default=out_default, help=out)
    if smoke_test is not None:
        parser.add_argument("--smoke-test", action="store_true", help=smoke_test)
    if config is not None:
        parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", dest="overrides",
                            help="change one config value for this run (YAML value), e.g. --set train.lora_r=8; repeatable")
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args(argv)
    return exit_code(name, lambda: _report(run(args)))


def _report(finished: Finished) -> int:
    if finished.summary is not None:
        print(json.dumps(finished.summary, indent=2))
    for line in finished.lines:
        print(line)
    return finished.code


def load_yaml_config(path) -> dict:
    """A YAML config file as a dict ({} when no path); one-line errors.

    Anchors and aliases are refused (a few lines of them expand into gigabytes: the "billion
    laughs"), and every key of every mapping must be text (YAML reads ``1:`` as a number and
    ``on:``/``yes:`` as booleans), so a config is plain data before any stage reads it.
    """
    if path is None:
        return {}
    import yaml

    try:
        with open(path, encoding="utf-8") as file:
            data = yaml.load(file, Loader=_plain_loader())  # noqa: S506 - a SafeLoader without aliases
    except OSError as error:
        raise ConfigError(f"cannot read config {path} ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text (byte {error.start}); save it as UTF-8") from None
    except _AliasRefused as error:
        raise ConfigError(f"{path}: {error}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({printable(str(error).splitlines()[0], limit=200)})") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a config") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config is a mapping of keys to values")
    _check_keys(data, path)
    return data


class _AliasRefused(ValueError):
    pass


def _plain_loader():
    import yaml

    class PlainLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's signature
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise _AliasRefused(f"line {event.start_mark.line + 1}: YAML aliases (*{printable(event.anchor, limit=40)}) "
                                    "are not accepted in configs; write the values out")
            return super().compose_node(parent, index)

    return PlainLoader


def _check_keys(data: dict, path) -> None:
    """Every mapping key in ``data`` is text; else one line naming where, and the fix."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        where, node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            if isinstance(node, dict) and not isinstance(key, str):
                hint = " (YAML reads on/off/yes/no/true/false as booleans)" if isinstance(key, bool) else ""
                raise ConfigError(f"{path}: the key {printable(repr(key), limit=60)}{' under ' + where if where else ''} is "
                                  f"not text{hint}; quote it")
            stack.append((f"{where}.{key}" if where else str(key), value))


def load_experiment_config(path, keys, smoke: dict | None = None, overrides: list[str] | tuple[str, ...] = ()) -> dict:
    """An experiment script's YAML: unknown top-level keys refused (with "did you mean"); ``smoke``
    merged per section; ``overrides`` (``--set train.lora_r=8``) applied last. Each script then checks
    every section as its stage's typed config."""
    config = load_yaml_config(path)
    for override in overrides:
        apply_override(config, override)
    for key in config:
        if key not in keys:
            raise ConfigError(f"{path}: unknown key {key!r}{did_you_mean(str(key), keys)}; the keys are {', '.join(keys)}")
    for name, values in (smoke or {}).items():
        config[name] = {**(config.get(name) or {}), **values}
    return config


def replicate_count(config: dict, *, maximum: int, what: str) -> int:
    """The config's ``replicates`` (1 when absent): a whole number from 1 to ``maximum``, or one line naming the fix."""
    value = config.get("replicates", 1)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise ConfigError(f"replicates: {value!r} is not a whole number from 1 to {maximum}; write e.g. replicates: 2 "
                          f"(how many {what})")
    return value


def section(config: dict, name: str) -> dict:
    """``config[name]`` as a mapping ({} when absent); one line when it is something else."""
    value = config.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        shown = printable(repr(value), limit=80, one_line=True)
        raise ConfigError(f"{name}: a section is a mapping of keys to values (indented lines under '{name}:'), "
                          f"not {type(value).__name__} {shown}")
    return value


def apply_override(config: dict, override: str) -> None:
    """``SECTION.KEY=VALUE`` (dotted, any depth) set in ``config``, the value read as YAML; one line when malformed."""
    import yaml

    key, sep, raw = override.partition("=")
    parts = key.strip().split(".")
    if not sep or not all(parts):
        raise ConfigError(f"--set {override!r}: write SECTION.KEY=VALUE, e.g. --set train.lora_r=8")
    try:
        value = yaml.load(raw, Loader=_plain_loader())  # noqa: S506 - a SafeLoader without aliases
    except (yaml.YAMLError, _AliasRefused) as error:
        raise ConfigError(f"--set {override!r}: the value is not YAML ({printable(str(error).splitlines()[0], limit=120)})") from None
    target = config
    for part in parts[:-1]:
        child = target.get(part)
        if child is None:
            child = target[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(f"--set {override!r}: {part} is not a section")
        target = child
    target[parts[-1]] = value
