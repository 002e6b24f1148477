"""How many verified examples augmentation derives from each source task."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AugmentConfig(BaseModel):
    """``prepare.augment``: what is derived from the training side's tasks (held-out ones get nothing).

    Every derived example is re-verified in the sandbox before it enters the dataset.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    symmetries: int = Field(7, ge=0, le=7, description="of the 7 non-trivial symmetries of the square, how many "
                            "augment each solved task (picked at random per task)")
    colour_permutations: int = Field(2, ge=0, le=32, description="permutations of the colours 1-9 augmenting each "
                                     "solved task (black stays)")
    alternatives: bool = Field(True, description="every other distinct program that fits a task is an example too")
    hindsight: int = Field(2, ge=0, le=32, description="per task (solved or not), programs that ran on its inputs "
                           "without fitting, relabelled as the solution of the task made of their own outputs")
    synthetic: int = Field(0, ge=0, le=100_000, description="synthetic tasks: a DSL program of one training task "
                           "run on another's inputs")
    random: int = Field(0, ge=0, le=100_000, description="random tasks: a random well-formed program over the "
                        "whole DSL (every primitive, parameters drawn from their types) run on a training task's inputs")
    random_steps: int = Field(2, ge=1, le=5, description="calls in a random program, at most (one in most of them)")
    seed: int = Field(0, description="which symmetries, permutations and pairings are drawn")
    workers: int = Field(2, ge=1, le=64, description="sandboxes verifying examples at once")
    timeout_s: float = Field(2.0, gt=0, le=60, description="seconds one derived solver may take per grid")

    @property
    def derives(self) -> bool:
        return bool(self.symmetries or self.colour_permutations or self.alternatives or self.hindsight or self.synthetic or self.random)
