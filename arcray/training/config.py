"""`arcray train`'s one config: the data, the base model, QLoRA, the optimiser, and the Ray scale.

Defaults are the plan's (Task 4b.2): LoRA r=16, alpha=32, dropout 0.05 on q_proj and v_proj,
lr 2e-4, 3 epochs, batch 4 with 4 accumulation steps, a 4-bit NF4 base. ``max_length`` only
truncates: batches are padded to their longest example, never to a fixed 2048.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from arcray.errors import ConfigError
from arcray.tracking import TrackingConfig
from arcray.validation import absolute_if_folder, explain_validation

DATASET_DIR = "dataset"  # what `arcray prepare` writes inside DATA_DIR


class TrainConfig(BaseModel):
    """QLoRA fine-tuning of a causal LM on an `arcray prepare` dataset, on Ray Train."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    data: Path = Field(description="DATA_DIR written by `arcray prepare` (holds dataset/)")
    model: str = Field(description="base model: smollm2-135m, a hub id, or a local folder")
    out: Path = Field(description="RUN_DIR: adapter/, merged/, config.json, history.json, summary.json")

    # LoRA (the plan's defaults)
    lora_r: int = Field(16, ge=1, le=4096, description="rank of the LoRA update matrices")
    lora_alpha: float = Field(32, gt=0, le=1e5, description="LoRA scaling numerator (the update is scaled by alpha / r)")
    lora_dropout: float = Field(0.05, ge=0, lt=1, description="dropout on the LoRA input")
    target_modules: list[str] = Field(["q_proj", "v_proj"], min_length=1, description="names of the linear layers that get adapters")
    lora_layers: int | None = Field(None, ge=1, description="adapt only the last N decoder layers (None: all): the "
                                    "backward pass then stops below them, which a CPU's budget feels")

    # optimisation
    lr: float = Field(2e-4, gt=0, le=1.0, description="peak learning rate (AdamW, linear decay)")
    epochs: int = Field(3, ge=1, le=10_000, description="passes over the training split")
    batch_size: int = Field(4, ge=1, description="examples per device per forward pass")
    grad_accum: int = Field(4, ge=1, description="forward passes per optimiser step")
    max_length: int = Field(2048, ge=16, le=1 << 20, description="truncate longer examples to this many tokens (no padding to it)")
    warmup_steps: float = Field(0.03, ge=0, le=1e7, description="linear warm-up: steps, or a share of all steps when below 1")
    weight_decay: float = Field(0.01, ge=0, le=100)
    seed: int = Field(0, description="adapter initialisation and data order")
    eval_examples: int | None = Field(None, ge=0, description="validation examples the eval loss is computed on "
                                      "(None: all; 0: none, the last checkpoint is kept): a CPU's budget")

    # scale
    workers: int = Field(1, ge=1, description="data-parallel Ray Train workers")
    gpu: bool = Field(False, description="one GPU per worker (bf16); otherwise CPU (fp32)")
    cpus_per_worker: float | None = Field(
        None, gt=0, description="CPUs (and torch threads) per worker; None: 1 with a GPU, else the cluster's CPUs / workers")
    memory_gib_per_worker: float | None = Field(
        None, gt=0, le=4096, description="memory (GiB) each worker asks Ray for; None: the peak measured for SmolLM2 "
        "(arcray/runtime/memory.py): set it for a larger model")
    load_in_4bit: bool = Field(True, description="quantise the frozen base to NF4 (QLoRA); false trains LoRA on a full-precision base")
    bf16: bool | None = Field(
        None, description="bfloat16 autocast; None: on a GPU that has it; true on CPU too (for CPUs with AVX512-BF16 or AMX: "
        "+25% tokens/s here, slower on others)")
    activation_checkpointing: bool | None = Field(
        None, description="recompute activations in the backward pass to save memory; None: on with a GPU or a 4-bit base, "
        "off for a full-precision base on CPU (there it costs a third of each step and memory is not short)")
    max_failures: int = Field(2, ge=-1, description="worker failures to recover from (from the last checkpoint); -1 without end")
    storage_path: str | None = Field(None, description="where Ray Train keeps results and checkpoints (a folder or a bucket URI); default RUN_DIR/ray")
    merge: bool = Field(True, description="also write merged/: the adapter merged into a full-precision base")
    tracking: TrackingConfig = Field(default_factory=TrackingConfig, description="where the per-step losses, params, "
                                     "metrics and the adapter are tracked besides RUN_DIR (MLflow, W&B or none)")

    @field_validator("model")
    @classmethod
    def _absolute_folder(cls, value: str) -> str:
        return absolute_if_folder(value)

    @field_validator("target_modules", mode="before")
    @classmethod
    def _split_modules(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> TrainConfig:
        data_later = bool((info.context or {}).get("data_later"))  # an experiment checks its config before it prepares
        if not data_later:
            from arcray.runtime.manifest import MANIFEST, read_artifact

            if (self.data / MANIFEST).is_file():  # a run of another stage: the one line that says what it is
                read_artifact(self.data, need=("prepare",), role="--data")
            if not (self.data / DATASET_DIR).is_dir():
                raise ValueError(f"{str(self.data)!r} has no {DATASET_DIR}/; pass the --out of `arcray prepare` as --data")
        if self.out.resolve() == self.data.resolve():
            raise ValueError("the run directory is the data directory; pass another --out")
        return self

    @classmethod
    def build(cls, *, data_later: bool = False, **fields: Any) -> TrainConfig:
        """Validate ``fields``; ConfigError with one line on any problem. ``data_later``: the data
        folder is yet to be prepared (an experiment validating every stage before the first)."""
        try:
            return cls.model_validate(fields, context={"data_later": data_later})
        except ValidationError as error:
            raise ConfigError(explain_validation(error, cls, "train config")) from None

    def checkpointing(self) -> bool:
        """Whether activations are recomputed (``activation_checkpointing``, or its default for this run)."""
        if self.activation_checkpointing is not None:
            return self.activation_checkpointing
        return self.gpu or self.load_in_4bit

    @property
    def effective_batch(self) -> int:
        """Examples per optimiser step across all workers."""
        return self.batch_size * self.grad_accum * self.workers

    def storage(self) -> str:
        return self.storage_path or str((self.out / "ray").resolve())
