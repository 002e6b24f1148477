"""`arcray tune`'s config: what to search, what to maximise, how much to spend."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from arcray.arc.render import RenderConfig
from arcray.augment import AugmentConfig
from arcray.consistency.metrics import METRICS as CONSISTENCY_METRICS
from arcray.llm.types import DEFAULT_TEMPERATURE
from arcray.pipelines.teachers import SearchTeacherConfig, TeacherConfig
from arcray.tracking import TrackingConfig
from arcray.validation import Strict, absolute_if_folder

# metric -> (direction, where it comes from); the self-consistency ones are its metric registry's
ARC_METRICS: dict[str, tuple[str, str]] = {
    "arc_fitness": ("max", "ARC evaluation: mean fitness on the held-out tasks"),
    "arc_runnable": ("max", "ARC evaluation: share of programs that run and return a grid"),
    "arc_solved": ("max", "ARC evaluation: share of tasks solved on their test outputs"),
}
SC_METRICS: dict[str, tuple[str, str]] = {
    name: ("max" if metric.higher_is_better else "min", f"self-consistency: {metric.description}")
    for name, metric in CONSISTENCY_METRICS.items()
}
METRICS: dict[str, tuple[str, str]] = {"eval_loss": ("min", "training (per epoch)"), **ARC_METRICS, **SC_METRICS}


class Dimension(Strict):
    """One searched parameter: exactly one of choice, uniform, loguniform, int_range."""

    choice: list[Any] | None = None
    uniform: tuple[float, float] | None = None
    loguniform: tuple[float, float] | None = None
    int_range: tuple[int, int] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "Dimension":
        kinds = [k for k in ("choice", "uniform", "loguniform", "int_range") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of choice, uniform, loguniform, int_range")
        bounds = self.uniform or self.loguniform or self.int_range
        if bounds and bounds[0] >= bounds[1]:
            raise ValueError(f"the lower bound {bounds[0]} must be below the upper bound {bounds[1]}")
        if self.loguniform and self.loguniform[0] <= 0:
            raise ValueError("loguniform bounds must be positive")
        return self

    def probes(self) -> list[Any]:
        """The values to check up front: every choice, or both bounds."""
        return list(self.choice or self.uniform or self.loguniform or self.int_range or ())


DEFAULT_SPACE = {
    "lora_r": Dimension(choice=[4, 8, 16, 32, 64]),
    "lora_dropout": Dimension(uniform=(0.0, 0.2)),
    "lr": Dimension(loguniform=(1e-6, 5e-4)),
    "epochs": Dimension(choice=[1, 2, 3, 4]),
}


class Objective(Strict):
    metric: str
    mode: Literal["max", "min"] | None = Field(None, description="default: the metric's natural direction")

    @model_validator(mode="before")
    @classmethod
    def _known(cls, value: Any) -> Any:
        if not isinstance(value, dict) or not isinstance(value.get("metric"), str):
            return value  # the field validation says what is wrong
        metric = value["metric"]
        if metric not in METRICS:
            from arcray.errors import did_you_mean

            raise ValueError(f"unknown metric {metric!r}{did_you_mean(metric, list(METRICS))}; "
                             f"choose from {', '.join(METRICS)}")
        return {**value, "mode": value.get("mode") or METRICS[metric][0]}


class ArcEvaluation(Strict):
    tasks: str = "arc1/eval"
    ids: list[str] | None = None
    limit: int | None = Field(4, ge=1)
    max_generations: int = Field(1, ge=1)
    population: int = Field(1, ge=1)
    max_new_tokens: int = Field(512, ge=16)


class ConsistencyEvaluation(Strict):
    dataset: dict[str, Any] = Field(default_factory=lambda: {"source": "arith", "limit": 10, "seed": 1000})
    n: int = Field(5, ge=1)
    temperature: float = Field(DEFAULT_TEMPERATURE, ge=0, le=2)
    max_new_tokens: int = Field(256, ge=16)


class Asha(Strict):
    enabled: Literal["auto", True, False] = Field("auto", description="auto: on where sound (one objective reported per epoch)")
    grace_period: int = Field(1, ge=1, description="epochs every trial runs before it may be stopped")
    reduction_factor: float = Field(2.0, gt=1)


class DataRecipe(Strict):
    """How to build ``data`` when it is missing: collect with a teacher, then prepare."""

    tasks: str = Field("arc1/train", description="task source for collection")
    limit: int | None = Field(60, ge=1, description="tasks collected")
    max_cells: int | None = Field(None, ge=1, description="only tasks whose prompt shows at most this many grid cells")
    teacher: TeacherConfig = Field(SearchTeacherConfig(), description="the collecting teacher")
    concurrency: int = Field(2, ge=1, description="collector actors")
    val_fraction: float = Field(0.25, ge=0.0, lt=1.0, description="share of tasks held out for eval loss")
    render: RenderConfig = Field(RenderConfig(), description="the student's prompt (ARC trials are scored on the same)")
    augment: AugmentConfig = Field(AugmentConfig(), description="examples derived from the training side's tasks")
    max_tokens: int | None = Field(None, ge=16, description="drop training examples longer than this (the model's tokens)")
    max_train_examples: int | None = Field(None, ge=1, description="keep at most this many training examples: a CPU's budget")


class TuneSettings(Strict):
    data: Path = Field(description="DATA_DIR from `arcray prepare`")
    build_data: DataRecipe | None = Field(None, description="when data is missing: collect and prepare it first")
    model: str = Field("smollm2-135m", description="the student's base model")
    train: dict[str, Any] = Field(default_factory=dict, description="fixed TrainConfig fields (batch size, 4-bit, …)")
    space: dict[str, Dimension] = Field(default_factory=lambda: dict(DEFAULT_SPACE))
    objectives: list[Objective] = Field(default_factory=lambda: [Objective(metric="eval_loss")], min_length=1)
    arc: ArcEvaluation | None = None
    consistency: ConsistencyEvaluation | None = None
    num_samples: int = Field(8, ge=1, description="trials in all (a restored search tops up to this)")
    max_concurrent: int = Field(1, ge=1, description="trials at once")
    sampler: Literal["tpe", "random", "nsga2"] = "tpe"
    seed: int = Field(0, description="the sampler's seed: same seed, same proposals")
    asha: Asha = Asha()
    cpus_per_trial: float = Field(1.0, gt=0, description="CPUs for each trial's training worker")
    gpus_per_trial: float = Field(0.0, ge=0, description="GPUs for each trial's training worker")
    max_failures: int = Field(1, ge=0, description="retries of a crashed trial before it counts as failed")
    storage_path: str | None = Field(None, description="Ray Tune results (a folder or bucket URI); default RUN_DIR/ray")
    optuna_storage: str | None = Field(None, description="Optuna RDB URL, written as the search runs (optuna-dashboard "
                                       "opens it); default sqlite:///RUN_DIR/optuna.db")
    tracking: TrackingConfig = Field(default_factory=TrackingConfig, description="where each trial's params and metrics are tracked "
                                     "besides RUN_DIR (MLflow by default, W&B or none)")
    out: Path

    @field_validator("data", "out")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()  # trials run in their own folders

    @field_validator("model")
    @classmethod
    def _absolute_folder(cls, value: str) -> str:
        return absolute_if_folder(value)

    @model_validator(mode="after")
    def _coherent(self) -> "TuneSettings":
        sources = {o.metric: METRICS[o.metric][1] for o in self.objectives}
        if any(m in ARC_METRICS for m in sources) and self.arc is None:
            raise ValueError("an arc_* objective needs an 'arc' evaluation section")
        if any(m in SC_METRICS for m in sources) and self.consistency is None:
            raise ValueError("a self-consistency objective needs a 'consistency' evaluation section")
        if self.asha.enabled is True and not self.asha_sound:
            raise ValueError("ASHA needs one objective reported every epoch (eval_loss); set asha.enabled: auto or false")
        clash = set(self.space) & set(self.train)
        if clash:
            raise ValueError(f"{sorted(clash)[0]!r} is both searched (space) and fixed (train); keep one")
        return self

    @property
    def multi_objective(self) -> bool:
        return len(self.objectives) > 1

    @property
    def asha_sound(self) -> bool:
        return not self.multi_objective and self.objectives[0].metric == "eval_loss"

    @property
    def use_asha(self) -> bool:
        return self.asha.enabled is True or (self.asha.enabled == "auto" and self.asha_sound)

    def storage(self) -> str:
        return self.storage_path or str((self.out / "ray").resolve())

    def optuna_url(self) -> str:
        return self.optuna_storage or f"sqlite:///{(self.out / 'optuna.db').resolve()}"
