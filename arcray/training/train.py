"""`arcray train`: QLoRA fine-tuning on Ray Train, then the adapter, the merged model and the record.

    config = TrainConfig.build(data="runs/data", model="smollm2-135m", out="runs/train")
    summary = run_training(config)

The driver validates everything it can before any cluster work (the data, the model and its
target modules, GPUs), starts a ``TorchTrainer`` whose workers run
:func:`arcray.training.worker.train_loop_per_worker`, and when it returns copies the best
checkpoint's adapter (lowest eval loss; the latest when there is no validation split) to
RUN_DIR/adapter and merges it into a full-precision base at RUN_DIR/merged.

Ray Train keeps its run under ``storage_path`` (default RUN_DIR/ray) with a fixed name, so
running the same command on the same RUN_DIR resumes from the latest checkpoint, and a worker
failure restarts the worker group from it (``max_failures``).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from arcray.cards import write_adapter_card
from arcray.errors import ArcrayError, ConfigError, did_you_mean
from arcray.runtime.manifest import input_ref, read_artifact
from arcray.runtime.memory import check_fits, train_worker_memory
from arcray.runtime.rundir import RunDir, keyed
from arcray.runtime.stage import StageRun
from arcray.training.config import TrainConfig
from arcray.training.data import TrainingData, load_training_data

RAY_RUN_NAME = "train"  # fixed: a re-run finds its checkpoints
METRICS = "metrics.jsonl"  # one line per epoch, appended as Ray receives it
ADAPTER_DIR, MERGED_DIR = "adapter", "merged"
RESUME_KEYS = ("model", "lora_r", "target_modules")
# How the run is spread over the cluster and where Ray keeps it, and how long it goes on (more epochs continue
# the same run from its last checkpoint): never what it learns from or how.
TRAIN_OPERATIONAL = ("workers", "gpu", "cpus_per_worker", "memory_gib_per_worker", "max_failures", "storage_path", "epochs")
# A CPU training step frees and re-allocates gigabytes of activations; by default glibc gives large
# freed blocks back to the kernel and page-faults them in again on the next step. Keeping them
# (no trim, a 1 GiB top pad, mmap only above 32 MiB) is worth +17% tokens/s on the main job's ARC
# data (benchmarks/train.py --settings); glibc reads these when a process starts, hence the env.
CPU_MALLOC_ENV = {"MALLOC_TRIM_THRESHOLD_": str(64 << 30), "MALLOC_TOP_PAD_": str(1 << 30), "MALLOC_MMAP_THRESHOLD_": str(32 << 20)}
# What of an HF checkpoint is the adapter (the rest is optimiser and trainer state).
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "adapter_model.bin", "README.md")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
                   "tokenizer.model", "vocab.json", "merges.txt", "added_tokens.json")


def run_training(config: TrainConfig, *, callbacks: list[Any] = (), ray_callbacks: list[Any] = ()) -> dict[str, Any]:
    """Train, export the adapter (and merged model) and return the summary written to summary.json.

    ``callbacks`` are extra ``transformers.TrainerCallback`` objects for every worker (they
    travel by pickle, so they must not hold live resources). ``ray_callbacks`` are Ray Train
    ``UserCallback`` objects for the run (Tune's ``TuneReportCallback``, say).
    """
    prepared = read_artifact(config.data, need=("prepare",), role="--data")
    data = load_training_data(config.data)
    if config.eval_examples is not None:
        data.validation = data.validation[: config.eval_examples]
    model_path = preflight(config)
    check_lengths(data, model_path, config.max_length)
    with StageRun(config.out, "train", config=config.model_dump(mode="json"), operational=TRAIN_OPERATIONAL,
                  inputs=[input_ref(config.data, prepared)], seeds={"train": config.seed}, tracking=config.tracking) as stage:
        run = stage.run
        _check_resumable(run, config)
        config = _resolve_cpus(config)
        run.write_config(config.model_dump(mode="json"))  # the resolved config
        if not data.has_validation:
            print("arcray train: the dataset has no validation examples; eval loss is skipped and the last checkpoint is kept")
        started = time.monotonic()
        result = _fit(config, data, run, list(callbacks), list(ray_callbacks))
        summary = _export(config, data, run, result, model_path)
        summary["wall_s"] = round(time.monotonic() - started, 1)
        write_adapter_card(run.file(ADAPTER_DIR), model=config.model, config=config.model_dump(mode="json"),
                           summary=summary, prepared=prepared)
        run.write_json("summary.json", summary)
        history = json.loads(run.file("history.json").read_text())
        steps = {key: [(int(s["step"]), float(s[key])) for s in history["steps"] if s.get(key) is not None]
                 for key in ("loss", "learning_rate", "grad_norm")}
        steps["eval_loss"] = [(int(e["step"]), float(e["eval_loss"])) for e in history["epochs"] if e.get("eval_loss") is not None]
        stage.finish(
            metrics={"train_loss": summary["final"].get("train_loss"), "eval_loss": summary["best"].get("eval_loss"),
                     "steps": summary["steps"], "train_examples": summary["data"].get("train_examples"),
                     "seconds_per_step": summary["final"].get("seconds_per_step")},
            outputs=[ADAPTER_DIR, "summary.json", "history.json"],
            exports={"adapter": str(Path(summary["adapter"]).resolve()), "model": config.model,
                     "merged": summary["merged"], "data": str(config.data)},
            artifacts=[run.file("summary.json"), run.file("history.json"), run.file(ADAPTER_DIR)],
            step_metrics={k: v for k, v in steps.items() if v})
    return summary


# -- before any cluster work ------------------------------------------------------------------
def preflight(config: TrainConfig) -> str:
    """Everything checkable on the driver: the model, its target modules, 4-bit support. The model path."""
    from arcray.llm.hf import resolve_model

    model_path = resolve_model(config.model)
    if config.load_in_4bit:
        try:
            import bitsandbytes  # noqa: F401
        except ImportError:
            raise ConfigError("4-bit training needs bitsandbytes: pip install 'arcray[train]', or pass --no-4bit") from None
    names = linear_module_names(model_path)
    for target in config.target_modules:
        if target not in names:
            raise ConfigError(
                f"target module {target!r} is not a linear layer of {config.model}{did_you_mean(target, sorted(names))}; "
                f"its linear layers are {', '.join(sorted(names))}"
            )
    return model_path


def check_lengths(data: TrainingData, model_path: str, max_length: int) -> None:
    """Refuse, before Ray starts, a ``max_length`` that every training example's prompt alone fills:
    nothing of any answer would be left to learn (and the workers would fail on an empty set)."""
    from arcray.llm.loading import load_tokenizer

    if not data.train:
        raise ConfigError("the training set is empty; run `arcray prepare` with sources that hold verified examples")
    tokenizer = load_tokenizer(model_path, padding_side="right")
    lengths = []
    for row in data.train:
        text = tokenizer.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
        lengths.append(len(tokenizer(text, add_special_tokens=False)["input_ids"]))
        if lengths[-1] < max_length:
            return  # one example keeps some of its answer: training has something to learn
    raise ConfigError(f"--max-length {max_length} leaves no training example: every prompt alone is at least {min(lengths)} "
                      f"tokens (the longest {max(lengths)}); pass --max-length above {min(lengths)}, or shorter prompts "
                      "(arcray prepare --prompt compact)")


def linear_module_names(model_path: str) -> set[str]:
    """The short names of a model's linear layers, from its config alone (no weights are loaded)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    try:
        model_config = AutoConfig.from_pretrained(model_path)
    except OSError as error:
        raise ConfigError(f"cannot read the config of model {model_path!r} ({str(error).splitlines()[0]}); "
                          "check the name, or download it first (HF_HUB_OFFLINE=1 needs it in the cache)") from None
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(model_config)
    return {name.rsplit(".", 1)[-1] for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)} - {"lm_head"}


def _check_resumable(run: RunDir, config: TrainConfig) -> None:
    previous_path = run.file("config.json")
    if not previous_path.exists() or not Path(config.storage(), RAY_RUN_NAME).exists():
        return
    previous = json.loads(previous_path.read_text())
    current = config.model_dump(mode="json")
    for key in RESUME_KEYS:
        if key in previous and previous[key] != current[key]:
            raise ConfigError(
                f"{run.path} holds a run with {key}={previous[key]!r}, whose checkpoints do not fit {key}={current[key]!r}; "
                "pass another --out, or the same value to resume"
            )


def _check_resources(config: TrainConfig) -> None:
    import ray

    if config.gpu:
        gpus = ray.cluster_resources().get("GPU", 0)
        if gpus < config.workers:
            raise ConfigError(f"--gpu with {config.workers} workers needs {config.workers} GPUs; the Ray cluster has {gpus:g}. "
                              "Lower --workers, or drop --gpu to train on CPU")


# -- on Ray Train ----------------------------------------------------------------------------
def _resolve_cpus(config: TrainConfig) -> TrainConfig:
    """``cpus_per_worker: None``: one CPU beside a GPU; on CPU, the cluster's CPUs shared by the workers
    (no more than the largest node has, so each worker still fits on one node)."""
    if config.cpus_per_worker is not None:
        return config
    import ray

    from arcray.runtime.ray_setup import ensure_ray

    ensure_ray()
    largest = max((node["Resources"].get("CPU", 0) for node in ray.nodes() if node.get("Alive")), default=1)
    shared = ray.cluster_resources().get("CPU", 1) // config.workers
    cpus = 1.0 if config.gpu else float(max(1, int(min(shared, largest))))
    return config.model_copy(update={"cpus_per_worker": cpus})


def _fit(config: TrainConfig, data: TrainingData, run: RunDir, callbacks: list[Any], ray_callbacks: list[Any]) -> Any:
    from arcray.tracking import trainer_report_to

    # TRL's report_to: the per-step loss and eval loss land in the MLflow run the stage's manifest completes
    report_to, tracking_env = trainer_report_to(config.tracking, run.path)
    from ray.train import CheckpointConfig, FailureConfig, LoggingConfig, RunConfig, ScalingConfig, TrainingFailedError
    from ray.train.torch import TorchTrainer

    from functools import partial

    from arcray.runtime.ray_setup import SecretEnv, ensure_ray
    from arcray.training.worker import train_loop_per_worker

    ensure_ray()
    _check_resources(config)
    check_fits(train_worker_memory(config.memory_gib_per_worker), "Train worker", "memory_gib_per_worker")
    trainer = TorchTrainer(
        partial(train_loop_per_worker, env=SecretEnv()),  # the key by reference, not in train_loop_config
        train_loop_config={"config": config, "train": data.train, "validation": data.validation, "callbacks": callbacks,
                           "report_to": report_to, "tracking_env": tracking_env},
        scaling_config=ScalingConfig(
            num_workers=config.workers, use_gpu=config.gpu, resources_per_worker={"CPU": config.cpus_per_worker,
                                                                          "memory": train_worker_memory(config.memory_gib_per_worker)},
        ),
        run_config=RunConfig(
            name=RAY_RUN_NAME,
            storage_path=config.storage(),
            failure_config=FailureConfig(max_failures=config.max_failures),
            # Ray Train's INFO lines (worker groups starting, process groups, each checkpoint and report) say nothing a
            # user acts on; arcray prints one progress line per step block with its ETA (worker.py), and warnings stay.
            logging_config=LoggingConfig(log_level="WARNING"),
            # Ray Train's print patch also logs what libraries print into captured streams (dill's
            # bytecode listings while datasets hashes a map function): pages of noise in the logs.
            worker_runtime_env={"env_vars": {"RAY_TRAIN_ENABLE_PRINT_PATCH": "0", **({} if config.gpu else CPU_MALLOC_ENV)}},
            # Ray never deletes the latest checkpoint, so this keeps the best and the latest.
            checkpoint_config=CheckpointConfig(
                num_to_keep=1,
                checkpoint_score_attribute="eval_loss" if data.has_validation else None,
                checkpoint_score_order="min",
            ),
            callbacks=[_metrics_recorder(run.file(METRICS)), *ray_callbacks],
        ),
    )
    try:
        return trainer.fit()
    except TrainingFailedError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ArcrayError(f"training failed after {config.max_failures} restarts: {first}; see the worker log above, "
                          f"then re-run the same command to resume from {config.storage()}") from error


def _metrics_recorder(path: Path) -> Any:
    from ray.train import UserCallback

    class RecordMetrics(UserCallback):
        """On the controller (the driver's node): one line per epoch in RUN_DIR/metrics.jsonl."""

        def after_report(self, run_context, metrics, checkpoint):  # noqa: ANN001 (Ray's signature)
            record = {**metrics[0], "checkpoint": checkpoint.path if checkpoint else None}
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")

    return RecordMetrics()


# -- after training ----------------------------------------------------------------------------
def _export(config: TrainConfig, data: TrainingData, run: RunDir, result: Any, model_path: str) -> dict[str, Any]:
    if result.checkpoint is None:
        raise ArcrayError("training ended without a checkpoint; check the worker log above")
    best = result.get_best_checkpoint("eval_loss", "min") if data.has_validation else result.checkpoint
    best_metrics = next((m for c, m in result.best_checkpoints if c.path == best.path), result.metrics)
    adapter = run.file(ADAPTER_DIR)
    with best.as_directory() as folder:
        copy_adapter(Path(folder), adapter)
    with result.checkpoint.as_directory() as folder:
        state = json.loads((Path(folder) / "trainer_state.json").read_text())
    epochs = sorted(keyed(run.read_records(METRICS), "step").values(), key=lambda r: r["step"])
    steps = [{k: e[k] for k in ("step", "epoch", "loss", "learning_rate", "grad_norm") if k in e}
             for e in state["log_history"] if "loss" in e]
    run.write_json("history.json", {"epochs": epochs, "steps": steps})
    merged = None
    if config.merge:
        from arcray.training.merge import merge_adapter

        merged = str(merge_adapter(model_path, adapter, run.file(MERGED_DIR)))
    data_keys = ("train_examples", "validation_examples", "dropped_examples", "truncated_examples", "train_tokens", "completion_tokens")
    last = result.metrics or {}
    return {
        "out": str(run.path),
        "model": config.model,
        "adapter": str(adapter),
        "merged": merged,
        "best": {"epoch": best_metrics.get("epoch"), "step": best_metrics.get("step"),
                 "eval_loss": best_metrics.get("eval_loss"), "checkpoint": best.path},
        "final": {k: last.get(k) for k in ("epoch", "step", "train_loss", "eval_loss", "seconds_per_step")},
        "steps": state["global_step"],
        "resumed_from_steps": sorted({e["resumed_from_step"] for e in epochs if e.get("resumed_from_step") is not None}),
        "data": {k: last.get(k) for k in data_keys},
        "effective_batch": config.effective_batch,
        "storage_path": config.storage(),
        "eval": "per epoch" if data.has_validation else "skipped: no validation examples",
    }


def copy_adapter(checkpoint: Path, target: Path) -> None:
    """The PEFT adapter (and tokenizer) out of an HF checkpoint, without optimiser state."""
    if not (checkpoint / "adapter_config.json").is_file():
        raise ArcrayError(f"checkpoint {checkpoint} holds no PEFT adapter; it was not written by `arcray train`")
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in ADAPTER_FILES + TOKENIZER_FILES:
        if (checkpoint / name).is_file():
            shutil.copy2(checkpoint / name, tmp / name)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
