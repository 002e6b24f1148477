"""Argument helpers shared by sub-commands."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_task_selection(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """--tasks SOURCE [--ids a,b] [--limit N]."""
    parser.add_argument("--tasks", required=required, metavar="SOURCE", help=task_source_help())
    add_ids_and_limit(parser)


def task_source_help() -> str:
    """Every registered ARC task source, as its spec syntax (the registry is the one list)."""
    from arcray.arc.sources import all_sources

    return "a task source: " + "; ".join(f"{s.syntax} ({s.summary})" for s in all_sources())


def add_ids_and_limit(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ids", type=split_ids, metavar="ID[,ID…]", help="only these task ids (comma-separated)")
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N tasks (by id)")


def split_ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def print_json(payload: Any) -> None:
    json.dump(payload, sys.stdout)
    sys.stdout.write("\n")


def load_yaml_config(path) -> dict:
    """A YAML config file as a dict ({} when no path); one-line errors."""
    if path is None:
        return {}
    import yaml

    from arcray.errors import ConfigError

    try:
        data = yaml.safe_load(open(path, encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read config {path} ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config is a mapping of keys to values")
    return data


def set_if_given(target: dict, key: str, value) -> None:
    if value is not None:
        target[key] = value


EXPERIMENT_CONFIG = "experiment_config.json"  # the resolved experiment config, at the top of its run directory


def load_experiment_config(path, keys, smoke: dict | None = None) -> dict:
    """An experiment script's YAML: unknown top-level keys refused (with "did you mean"); ``smoke``
    merged per section. Each script then checks every section as its stage's typed config."""
    from arcray.errors import ConfigError, did_you_mean

    config = load_yaml_config(path)
    for key in config:
        if key not in keys:
            raise ConfigError(f"{path}: unknown key {key!r}{did_you_mean(str(key), keys)}; the keys are {', '.join(keys)}")
    for name, values in (smoke or {}).items():
        config[name] = {**(config.get(name) or {}), **values}
    return config


def section(config: dict, name: str) -> dict:
    """``config[name]`` as a mapping ({} when absent); one line when it is something else."""
    from arcray.errors import ConfigError

    value = config.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{name}: a section is a mapping of keys to values, not {type(value).__name__} {value!r}")
    return value


def quiet_transformers() -> None:
    """Keep transformers' warnings and progress bars out of a command's output."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        return
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
