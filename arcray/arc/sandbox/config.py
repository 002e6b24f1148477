"""Limits for running one solver."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SandboxConfig(BaseModel):
    """Per-evaluation limits. Defaults suit ARC solvers: fast, small, quiet."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_s: float = Field(2.0, gt=0, le=600, description="wall-clock seconds one solve(grid) call may take")
    memory_mb: int = Field(512, ge=16, le=65536, description="memory (MiB) the solver may allocate beyond the warm interpreter")
    file_limit_mb: int = Field(16, ge=0, le=4096, description="largest file (MiB) the solver may write in its private folder")
    output_limit: int = Field(65536, ge=0, le=16 * 1024 * 1024, description="characters of printed output kept; the rest is dropped")
