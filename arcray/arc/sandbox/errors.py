"""The sandbox's one error: it cannot run confined code on this machine (the message says the fix)."""

from arcray.errors import ArcrayError


class SandboxUnavailable(ArcrayError):
    """The sandbox worker could not be started (or could not be confined) on this machine."""
