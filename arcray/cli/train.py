"""`arcray train`: QLoRA fine-tuning on Ray Train.

    arcray train --data runs/data --model smollm2-135m --out runs/train
    arcray train --data runs/data --model google/codegemma-7b-it --out runs/cg --workers 4 --gpu
"""

from __future__ import annotations

import argparse
from pathlib import Path

from arcray.cli._common import add_json_flag, load_yaml_config, print_json, set_if_given

# flag dest -> TrainConfig field; the config's defaults apply where a flag is not given
FLAGS = ("lora_r", "lora_alpha", "lora_dropout", "target_modules", "lr", "epochs", "batch_size", "grad_accum",
         "max_length", "warmup_steps", "seed", "workers", "gpu", "cpus_per_worker", "load_in_4bit", "max_failures",
         "storage_path", "merge")


def register(subparsers: argparse._SubParsersAction) -> None:
    from arcray.training.config import TrainConfig
    from arcray.validation import with_default

    parser = subparsers.add_parser(
        "train", help="fine-tune a model with QLoRA on Ray Train (adapter + merged model)",
        description="Fine-tune MODEL on an `arcray prepare` dataset with LoRA on a 4-bit base, data-parallel on Ray Train; "
        "eval loss and a checkpoint every epoch, the best kept. Writes RUN_DIR/adapter (PEFT), RUN_DIR/merged, "
        "config.json, metrics.jsonl, history.json and summary.json. Re-running on the same RUN_DIR resumes.",
    )
    parser.add_argument("--data", type=Path, required=True, metavar="DATA_DIR", help="the --out of `arcray prepare`")
    parser.add_argument("--model", required=True, metavar="NAME", help="smollm2-135m, a hub id, or a model folder")
    parser.add_argument("--out", type=Path, required=True, metavar="RUN_DIR")
    parser.add_argument("--config", type=Path, metavar="YAML", help="TrainConfig fields; flags given here override them")
    lora = parser.add_argument_group("LoRA (defaults: the plan's)")
    lora.add_argument("--lora-r", type=int, help=with_default("rank", TrainConfig, "lora_r"))
    lora.add_argument("--lora-alpha", type=float, help=with_default("scaling numerator", TrainConfig, "lora_alpha"))
    lora.add_argument("--lora-dropout", type=float, help=with_default("dropout on the LoRA input", TrainConfig, "lora_dropout"))
    lora.add_argument("--target-modules", metavar="NAME[,NAME…]", help=with_default("linear layers to adapt", TrainConfig, "target_modules"))
    optim = parser.add_argument_group("optimisation")
    optim.add_argument("--lr", type=float, help=with_default("peak learning rate", TrainConfig, "lr"))
    optim.add_argument("--epochs", type=int, help=with_default("passes over the training split", TrainConfig, "epochs"))
    optim.add_argument("--batch-size", type=int, help=with_default("examples per device per step", TrainConfig, "batch_size"))
    optim.add_argument("--grad-accum", type=int, help=with_default("gradient accumulation steps", TrainConfig, "grad_accum"))
    optim.add_argument("--max-length", type=int, metavar="K", help=with_default("truncate examples to K tokens; batches pad only to their longest", TrainConfig, "max_length"))
    optim.add_argument("--warmup-steps", type=float, help=with_default("warm-up steps, or a share of all steps below 1", TrainConfig, "warmup_steps"))
    optim.add_argument("--seed", type=int, help=with_default("adapter initialisation and data order", TrainConfig, "seed"))
    scale = parser.add_argument_group("scale")
    scale.add_argument("--workers", type=int, help=with_default("data-parallel workers", TrainConfig, "workers"))
    scale.add_argument("--gpu", action="store_true", default=None, help="one GPU per worker (bf16)")
    scale.add_argument("--cpus-per-worker", type=float, help=TrainConfig.model_fields["cpus_per_worker"].description)
    scale.add_argument("--4bit", dest="load_in_4bit", action=argparse.BooleanOptionalAction, default=None,
                       help="NF4 base (QLoRA; default) or a full-precision base")
    scale.add_argument("--max-failures", type=int, help=with_default("worker failures to recover from", TrainConfig, "max_failures"))
    scale.add_argument("--storage-path", metavar="PATH_OR_URI", help="Ray Train results and checkpoints (default RUN_DIR/ray)")
    scale.add_argument("--merge", action=argparse.BooleanOptionalAction, default=None, help="write RUN_DIR/merged (default: yes)")
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from arcray.training.config import TrainConfig
    from arcray.training.train import run_training

    fields = load_yaml_config(args.config)
    fields.update(data=args.data, model=args.model, out=args.out)
    for name in FLAGS:
        set_if_given(fields, name, getattr(args, name))
    summary = run_training(TrainConfig.build(**fields))
    if args.json:
        print_json(summary)
        return 0
    best, final, data = summary["best"], summary["final"], summary["data"]
    print(f"{data['train_examples']} train / {data['validation_examples']} validation examples; "
          f"{summary['steps']} steps of {summary['effective_batch']} examples; {final['seconds_per_step']} s/step")
    print(f"final: train loss {_fmt(final['train_loss'])}, eval loss {_fmt(final['eval_loss'])}; "
          f"best: epoch {best['epoch']}, eval loss {_fmt(best['eval_loss'])}")
    print(f"adapter: {summary['adapter']}")
    if summary["merged"]:
        print(f"merged: {summary['merged']}")
    return 0


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"
