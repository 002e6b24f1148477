"""The peak resident memory of every kind of Ray worker process while a command runs: what each actor and Train
worker should declare (arcray/runtime/memory.py).

    python scripts/ray_peaks.py -- python experiments/main.py --out /tmp/peaks-run

Polls /proc once a second for processes whose command line starts with ``ray::`` (Ray names its workers after
the actor class or task they run) and keeps each name's largest VmHWM, the kernel's own high-water mark, so a
peak between two polls is not missed while the process lives. Prints a table when the command ends. Linux only.
Counts every Ray process on the machine: run it on a quiet one.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path


def sample(peaks: dict[str, int]) -> None:
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            status = (proc / "status").read_text()
        except OSError:
            continue
        found = re.search(r"VmHWM:\s+(\d+)", status)
        if command.startswith("ray::") and found:
            name = command.split(" ")[0].split(".")[0]  # ray::MapWorker(MapBatches(ArcCollector)).submit -> the actor
            peaks[name] = max(peaks.get(name, 0), int(found.group(1)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ARGS…")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    peaks: dict[str, int] = {}
    process = subprocess.Popen(command)
    while process.poll() is None:
        sample(peaks)
        time.sleep(1.0)
    print(f"\n{'Ray process':60} peak GiB")
    for name, kib in sorted(peaks.items(), key=lambda item: -item[1]):
        print(f"{name:60} {kib / 2**20:8.2f}")
    return process.returncode


if __name__ == "__main__":
    sys.exit(main())
