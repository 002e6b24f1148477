"""What each Ray Train worker runs: a QLoRA model, TRL's SFTTrainer, and a report to Ray per epoch.

Every worker loads its own copy of the base (4-bit NF4 on its own device), wraps it with the
same LoRA adapters and trains its shard of every batch; DDP averages the adapter gradients.
Gradient checkpointing is non-reentrant: the reentrant kind recomputes the forward outside
autograd's view, so DDP sees LoRA parameters "used twice" or not at all and fails or hangs
(the known QLoRA + DDP pitfall), and frozen 4-bit inputs would need ``requires_grad`` hacks.

At the end of each epoch the trainer evaluates, saves an HF checkpoint (the PEFT adapter,
optimiser, scheduler, RNG and trainer state) and :class:`ReportToRay` hands it to Ray Train
with the epoch's losses. Ray keeps the best by eval loss and the latest; a restarted worker
group, or a re-run of the same run directory, resumes from the latest.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from arcray.llm.loading import load_causal_lm, load_tokenizer, quiet_libraries
from arcray.training.config import TrainConfig
from arcray.training.data import Row

CHECKPOINT_PREFIX = "checkpoint-"  # transformers' own name for its checkpoint folders
RESUME_DIR = "resume-from"  # not checkpoint-*, so transformers' rotation never deletes it
LOG_EVERY_STEPS = 1


def load_base(model_path: str, *, load_in_4bit: bool, device: Any, dtype: Any) -> Any:
    """The frozen base on ``device``: NF4 with double quantisation (QLoRA), or plain weights."""
    model = load_causal_lm(model_path, load_in_4bit=load_in_4bit, device=device, dtype=dtype)
    if load_in_4bit:
        from peft import prepare_model_for_kbit_training

        # Freezes the base and upcasts norms; the trainer turns on (non-reentrant) checkpointing itself.
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    return model


def lora_config(config: TrainConfig, num_layers: int | None = None) -> Any:
    """PEFT's LoraConfig; with ``lora_layers``, only the last ones of the model's ``num_layers`` get adapters."""
    from peft import LoraConfig

    layers = None
    if config.lora_layers is not None and num_layers:
        layers = list(range(max(0, num_layers - config.lora_layers), num_layers))
    return LoraConfig(
        r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
        target_modules=list(config.target_modules), bias="none", task_type="CAUSAL_LM",
        layers_to_transform=layers, layers_pattern="layers" if layers else None,
    )


def sft_args(config: TrainConfig, output_dir: str, *, on_gpu: bool, evaluate: bool,
             report_to: list[str] | str = "none") -> Any:
    """TRL's SFTConfig: prompt–completion loss, dynamic padding, an eval and a save per epoch;
    ``report_to`` from :func:`arcray.tracking.trainer_report_to` (per-step losses to MLflow or W&B)."""
    from trl import SFTConfig

    bf16 = config.bf16 if config.bf16 is not None else on_gpu and _bf16_supported()
    return SFTConfig(
        output_dir=output_dir,
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.lr,
        lr_scheduler_type="linear",
        warmup_steps=config.warmup_steps,
        weight_decay=config.weight_decay,
        seed=config.seed,
        # data: loss on the completion only; each batch padded to its own longest example
        completion_only_loss=True,
        max_length=config.max_length,
        packing=False,
        padding_free=False,
        train_sampling_strategy="group_by_length",  # batches of similar lengths: little padding left
        dataset_num_proc=None,
        # precision and memory
        bf16=bf16,
        fp16=False,
        use_cpu=not on_gpu,
        activation_checkpointing=config.checkpointing(),
        activation_checkpointing_kwargs={"use_reentrant": False},
        ddp_find_unused_parameters=False,  # every LoRA parameter gets a gradient every step
        # evaluation, checkpoints, logs
        eval_strategy="epoch" if evaluate else "no",
        save_strategy="epoch",
        save_total_limit=1,  # Ray Train keeps the copies that matter
        prediction_loss_only=True,
        logging_strategy="steps",
        logging_steps=LOG_EVERY_STEPS,
        report_to=report_to,
        disable_tqdm=True,
        dataloader_num_workers=0,
    )


def build_trainer(
    config: TrainConfig,
    train: list[Row],
    validation: list[Row],
    *,
    model_path: str,
    output_dir: str,
    device: Any,
    callbacks: list[Any] = (),
    report_to: list[str] | str = "none",
) -> Any:
    """An SFTTrainer for ``config`` on ``device`` (the same one with or without Ray)."""
    import datasets
    import torch
    from datasets import Dataset
    from trl import SFTTrainer

    datasets.disable_progress_bars()
    on_gpu = torch.device(device).type == "cuda"
    dtype = torch.bfloat16 if on_gpu and _bf16_supported() else torch.float32
    tokenizer = load_tokenizer(model_path, padding_side="right")
    model = load_base(model_path, load_in_4bit=config.load_in_4bit, device=device, dtype=dtype)
    trainer = SFTTrainer(
        model=model,
        args=sft_args(config, output_dir, on_gpu=on_gpu, evaluate=bool(validation), report_to=report_to),
        train_dataset=Dataset.from_list(train),
        eval_dataset=Dataset.from_list(validation) if validation else None,
        processing_class=tokenizer,
        peft_config=lora_config(config, getattr(model.config, "num_hidden_layers", None)),
        callbacks=list(callbacks),
    )
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # a dict per logged step on the console: arcray's ProgressLines instead
    if not on_gpu:
        # TRL keeps QLoRA adapters in bf16 (the paper's recipe for GPUs); CPUs compute in fp32.
        for parameter in trainer.model.parameters():
            if parameter.requires_grad:
                parameter.data = parameter.data.float()
    return trainer


def _bf16_supported() -> bool:
    import torch

    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def data_stats(trainer: Any, train: list[Row], validation: list[Row], max_length: int) -> dict[str, Any]:
    """How much of the data survived tokenisation, and how much of it the loss sees."""
    prepared = trainer.train_dataset
    lengths = [len(ids) for ids in prepared["input_ids"]]
    completion = sum(sum(1 for label in labels if label != -100) for labels in prepared["labels"])
    return {
        "train_examples": len(train),
        "validation_examples": len(validation),
        "dropped_examples": len(train) - len(prepared),  # prompt alone filled max_length
        "truncated_examples": sum(1 for n in lengths if n >= max_length),
        "train_tokens": sum(lengths),
        "completion_tokens": completion,
    }


def _report_callback() -> Any:
    from transformers import TrainerCallback

    class ReportToRay(TrainerCallback):
        """After each save, report the epoch's losses and the HF checkpoint to Ray Train.

        Every rank reports (``ray.train.report`` is a barrier); each hands over the checkpoint
        folder it wrote (rank 0: the adapter and trainer state, others: their RNG state), and
        Ray merges them into one checkpoint in storage.
        """

        def __init__(self, extra: dict[str, Any]) -> None:
            self.extra = extra
            self.reported_step = 0
            self.clock: list[float] = []  # start of the epoch, then the end of each step

        def on_train_begin(self, args, state, control, **kwargs):  # noqa: ANN001 (transformers' signature)
            self.reported_step = state.global_step  # after a resume: the checkpoint's step

        def on_epoch_begin(self, args, state, control, **kwargs):  # noqa: ANN001
            self.clock = [time.monotonic()]

        def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
            self.clock.append(time.monotonic())

        def on_save(self, args, state, control, **kwargs):  # noqa: ANN001
            import ray
            import ray.train

            metrics = {**epoch_metrics(state.log_history, self.reported_step), **self.extra}
            if len(self.clock) > 1:
                metrics["seconds_per_step"] = round((self.clock[-1] - self.clock[0]) / (len(self.clock) - 1), 3)
            metrics["node"] = ray.get_runtime_context().get_node_id()  # which machine trained it (rank 0's, in metrics.jsonl)
            self.reported_step = state.global_step
            folder = Path(args.output_dir) / f"{CHECKPOINT_PREFIX}{state.global_step}"
            checkpoint = ray.train.Checkpoint.from_directory(str(folder)) if folder.is_dir() else None
            ray.train.report(metrics, checkpoint=checkpoint, checkpoint_dir_name=f"{CHECKPOINT_PREFIX}{state.global_step:06d}")

    return ReportToRay


def _quiet_train_reports() -> None:
    """Ray Train logs every report (metrics and checkpoint) at INFO through a logger named by its file path, outside
    the ``ray.train`` level that train.py sets: the same level here, on that logger."""
    import logging

    try:
        from ray.train.v2._internal.execution import context
    except ImportError:  # another Ray layout: its lines stay
        return
    logging.getLogger(context.__file__).setLevel(logging.WARNING)


def _progress_callback() -> Any:
    from transformers import TrainerCallback

    class ProgressLines(TrainerCallback):
        """Rank 0's console: a line every tenth of the run (step, loss, seconds a step, ETA) and one per evaluation.

        The rate counts only this process's steps, so a resumed run's ETA is not flattered by the steps it skipped."""

        def __init__(self, label: str) -> None:
            self.label, self.started, self.first_step, self.losses = label, 0.0, 0, []

        def on_train_begin(self, args, state, control, **kwargs):  # noqa: ANN001 (transformers' signature)
            self.started, self.first_step = time.monotonic(), state.global_step

        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
            if logs and "loss" in logs:
                self.losses.append(float(logs["loss"]))

        def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
            total, step = state.max_steps, state.global_step
            if step % max(1, total // 10) and step != total:
                return
            done = step - self.first_step
            rate = (time.monotonic() - self.started) / done if done else 0.0
            loss = f", loss {sum(self.losses) / len(self.losses):.4f}" if self.losses else ""
            left = int(rate * (total - step))
            print(f"[train {self.label}] step {step}/{total}{loss}, {rate:.2f}s/step, ETA {left // 60:02d}:{left % 60:02d}",
                  flush=True)
            self.losses = []

        def on_evaluate(self, args, state, control, metrics=None, **kwargs):  # noqa: ANN001
            if metrics and "eval_loss" in metrics:
                print(f"[train {self.label}] epoch {state.epoch:g}: eval loss {metrics['eval_loss']:.4f}", flush=True)

    return ProgressLines


def epoch_metrics(log_history: list[dict[str, Any]], after_step: int) -> dict[str, Any]:
    """The train loss averaged over the steps since ``after_step``, and the latest eval."""
    losses = [e["loss"] for e in log_history if "loss" in e and e.get("step", 0) > after_step]
    evals = [e for e in log_history if "eval_loss" in e]
    last = log_history[-1] if log_history else {}
    metrics: dict[str, Any] = {
        "epoch": round(float(last.get("epoch", 0.0)), 4),
        "step": int(last.get("step", 0)),
        "train_loss": sum(losses) / len(losses) if losses else None,
    }
    if evals:
        metrics["eval_loss"] = float(evals[-1]["eval_loss"])
    return metrics


def train_loop_per_worker(loop: dict[str, Any], env=None) -> None:
    """The Ray Train entry point: ``loop`` holds the config, the rows, extra callbacks and the
    tracking (``report_to`` and ``tracking_env``: :func:`arcray.tracking.trainer_report_to`); ``env``
    the driver's :class:`~arcray.runtime.ray_setup.SecretEnv`."""
    import ray.train
    import ray.train.torch

    from arcray.llm.hf import resolve_model
    from arcray.runtime.ray_setup import use_cpu_threads
    from arcray.tracking import worker_report_to

    if env is not None:
        env.apply()
    quiet_libraries()  # before PEFT and bitsandbytes are imported
    _quiet_train_reports()
    config: TrainConfig = loop["config"]
    context = ray.train.get_context()
    rank = context.get_world_rank()
    output_dir = tempfile.mkdtemp(prefix=f"arcray-train-rank{rank}-")
    device = ray.train.torch.get_device()
    use_cpu_threads(config.cpus_per_worker, device)
    train, validation = loop["train"], loop["validation"]
    trainer = build_trainer(
        config, train, validation, model_path=resolve_model(config.model), output_dir=output_dir, device=device,
        callbacks=list(loop.get("callbacks", ())),
        report_to=worker_report_to(loop.get("report_to", "none"), loop.get("tracking_env", {})),
    )
    extra = data_stats(trainer, train, validation, config.max_length)
    resume = None
    checkpoint = ray.train.get_checkpoint()
    if checkpoint is not None:
        resume = str(Path(output_dir) / RESUME_DIR)
        checkpoint.to_directory(resume)
        extra["resumed_from_step"] = json.loads((Path(resume) / "trainer_state.json").read_text())["global_step"]
    trainer.add_callback(_report_callback()(extra))
    if rank == 0:
        trainer.add_callback(_progress_callback()("/".join(Path(str(config.out)).parts[-2:])))  # split-100/train
    trainer.train(resume_from_checkpoint=resume)
