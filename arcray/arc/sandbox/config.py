"""Limits for running one solver."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SandboxConfig(BaseModel):
    """Per-evaluation limits. Defaults suit ARC solvers: fast, small, quiet."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    timeout_s: float = Field(2.0, gt=0, le=600, description="wall-clock seconds one solve(grid) call may take")
    memory_mb: int = Field(512, ge=16, le=65536, description="memory (MiB) the solver may allocate beyond the warm interpreter")
    file_limit_mb: int = Field(16, ge=0, le=4096, description="largest file (MiB) the solver may write in its private folder")
    scratch_mb: int = Field(64, ge=1, le=4096, description="size (MiB) of the private tmpfs all of a solver's files share")
    output_limit: int = Field(65536, ge=0, le=16 * 1024 * 1024, description="characters of printed output kept; the rest is dropped")
    packages: tuple[str, ...] = Field(("numpy", "arcdsl"), description="installed packages solvers may import (read-only, beside "
                                      "the standard library), imported once in the warm worker; arcdsl is arcray's grid library")
    cgroup: str | None = Field(
        None, description="a delegated cgroup v2 folder: each worker runs in a child cgroup of it, capped in memory, "
        "tasks and CPU (also ARCRAY_SANDBOX_CGROUP; without one, rlimits and seccomp hold every cap alone)")
    allow_unconfined: bool = Field(
        False, description="run solvers with only the Python-level guards where bubblewrap cannot confine them "
        "(also ARCRAY_ALLOW_UNCONFINED=1); never for untrusted code")
