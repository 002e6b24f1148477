"""Running untrusted ``solve(grid)`` source safely: see :class:`Sandbox`."""

from arcray.arc.sandbox.config import SandboxConfig
from arcray.arc.sandbox.outcome import Outcome, OutcomeKind
from arcray.arc.sandbox.errors import SandboxUnavailable
from arcray.arc.sandbox.pool import Sandbox, check_sandbox

__all__ = ["Outcome", "OutcomeKind", "Sandbox", "SandboxConfig", "SandboxUnavailable", "check_sandbox"]
