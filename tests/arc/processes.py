"""What the hostile-solver tests look for on this side of the sandbox: processes left behind."""

from pathlib import Path


def processes_with(marker: str) -> list[int]:
    """Pids of every process whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found
