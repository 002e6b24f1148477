"""`arcray kaggle bundle` and `arcray kaggle predict`: the ARC Prize offline path (``arcray.kaggle``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from arcray.cli._common import add_json_flag, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "kaggle", help="bundle a student for an offline ARC Prize notebook, and predict with it",
        description="`bundle` turns an `arcray evaluate` run into a Kaggle dataset folder (wheels, the student, a "
                    "notebook); `predict` is what that notebook runs: the student answers a challenges file, without "
                    "Ray or a network, and writes submission.json.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    bundle = actions.add_parser("bundle", help="write the Kaggle dataset folder for an evaluation's student")
    bundle.add_argument("evaluation", type=Path, metavar="EVAL_RUN", help="an `arcray evaluate` run: its student and settings")
    bundle.add_argument("--out", type=Path, required=True, help="the dataset folder (replaced)")
    bundle.add_argument("--wheel", type=Path, action="append", default=[], metavar="FILE.whl",
                        help="a wheel the Kaggle image lacks, downloaded beforehand (repeatable)")
    bundle.add_argument("--budget-s", type=float, default=11 * 3600, help="the notebook's time budget (default 11 h)")
    bundle.add_argument("--dataset-id", default="YOUR-KAGGLE-NAME/arcray-bundle", help="OWNER/NAME on Kaggle")
    add_json_flag(bundle)
    bundle.set_defaults(handler=run_bundle)

    export = actions.add_parser("challenges", help="write ARC Prize's challenges/solutions pair from a task source "
                                "(a local, offline rehearsal of the notebook on tasks with known answers)")
    export.add_argument("source", help="a task source, e.g. arc2025/eval or arc1/eval")
    export.add_argument("--out", type=Path, required=True, help="the folder for arc-agi_NAME_{challenges,solutions}.json")
    export.add_argument("--name", default="evaluation", help="NAME in the file names (default evaluation)")
    export.add_argument("--limit", type=int, default=None, help="only the first N tasks")
    export.add_argument("--max-cells", type=int, default=None, help="only tasks whose prompt shows at most N cells")
    export.set_defaults(handler=run_challenges)

    predict = actions.add_parser("predict", help="answer a challenges file with a bundle's student (the notebook's step)")
    predict.add_argument("--bundle", type=Path, required=True, help="the folder `arcray kaggle bundle` wrote")
    predict.add_argument("--challenges", type=Path, required=True, help="an arc-agi_*_challenges.json")
    predict.add_argument("--out", type=Path, required=True, help="where submission.json (and the run) are written")
    predict.add_argument("--budget-s", type=float, default=None, help="start no task after this many seconds")
    predict.add_argument("--limit", type=int, default=None, help="only the first N tasks (a test run)")
    predict.add_argument("--allow-unconfined", action="store_true",
                         help="run the student's programs without the OS sandbox where it cannot confine them (loudly)")
    add_json_flag(predict)
    predict.set_defaults(handler=run_predict)


def run_bundle(args: argparse.Namespace) -> int:
    from arcray.kaggle.bundle import build_bundle

    result = build_bundle(args.evaluation, args.out, wheels=args.wheel, budget_s=args.budget_s, dataset_id=args.dataset_id)
    if args.json:
        print_json(result)
        return 0
    print(f"bundle: {result['out']} (model {result['model']}" + (f", adapter {result['adapter']}" if result["adapter"] else "")
          + f"; wheels: {', '.join(result['wheels'])})")
    print(f"notebook: {result['notebook']}; upload with `kaggle datasets create -p {result['out']}`")
    return 0


def run_challenges(args: argparse.Namespace) -> int:
    from arcray.kaggle.challenges import write_challenges

    path = write_challenges(args.source, args.out, name=args.name, limit=args.limit, max_cells=args.max_cells)
    print(f"challenges: {path}" + (" (solutions beside it)" if path.with_name(path.name.replace("challenges", "solutions")).exists() else ""))
    return 0


def run_predict(args: argparse.Namespace) -> int:
    from arcray.kaggle.predict import predict

    result = predict(bundle=args.bundle, challenges=args.challenges, out=args.out, budget_s=args.budget_s,
                     allow_unconfined=args.allow_unconfined, limit=args.limit)
    if args.json:
        print_json(result)
    return 0
