"""The `arcray` command: one sub-command per stage, each in its own module.

A module here defines ``register(subparsers)``, which adds its parser and sets
``handler`` (a function of the parsed namespace returning an exit code). Errors a
user can fix are :class:`arcray.errors.ArcrayError` and print as one line.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from arcray.errors import exit_code

# Sub-command modules, in the order `arcray --help` lists them.
COMMAND_MODULES = (
    "arcray.cli.tasks",
    "arcray.cli.score",
    "arcray.cli.submission",
    "arcray.cli.collect",
    "arcray.cli.prepare",
    "arcray.cli.train",
    "arcray.cli.evaluate",
    "arcray.cli.tune",
    "arcray.cli.generate",
    "arcray.cli.consistency",
    "arcray.cli.compare",
    "arcray.cli.hub",
    "arcray.cli.kaggle",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="arcray",
        description="Distil reasoning into small open models: ARC program synthesis and self-consistency, on Ray.",
    )
    from arcray import __version__

    parser.add_argument("--version", action="version", version=f"arcray {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    return exit_code(f"arcray {args.command}", lambda: int(args.handler(args) or 0))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
