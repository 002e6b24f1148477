"""`arcray hub push`: a run's adapter or dataset, with its card, to the Hugging Face Hub (``arcray.hub``)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from arcray.cli._common import add_json_flag, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "hub", help="push an adapter or a dataset to the Hugging Face Hub",
        description="Push a train run's adapter (a model repository) or a prepare run's dataset (a dataset repository), "
                    "each with its generated card. The token comes from HF_TOKEN or `hf auth login`; HF_ENDPOINT names "
                    "another hub.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    push = actions.add_parser("push", help="push RUN_DIR's adapter or dataset")
    push.add_argument("run", type=Path, metavar="RUN_DIR", help="an `arcray train` or `arcray prepare` run directory")
    push.add_argument("--repo", required=True, metavar="OWNER/NAME", help="the hub repository (created when missing)")
    push.add_argument("--evaluation", type=Path, action="append", default=[], metavar="EVAL_RUN",
                      help="an `arcray evaluate` run of this adapter: its figures go into the model card (repeatable)")
    push.add_argument("--private", action="store_true", help="create the repository private")
    push.add_argument("--dry-run", action="store_true", help="list what would be pushed; needs no token or network")
    add_json_flag(push)
    push.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from arcray.hub import push

    result = push(args.run, args.repo, evaluations=args.evaluation, private=args.private, dry_run=args.dry_run,
                  endpoint=os.environ.get("HF_ENDPOINT"))
    if args.json:
        print_json(result)
        return 0
    verb = "pushed" if result["pushed"] else "would push"
    print(f"{verb} {len(result['files'])} files of {result['run']} ({result['stage']} run) to {result['repo_type']} "
          f"repository {result['repo']}" + (f": {result['url']}" if result.get("url") else ""))
    for name in result["files"]:
        print(f"  {name}")
    return 0
