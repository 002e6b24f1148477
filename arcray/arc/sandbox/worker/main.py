"""The sandbox worker's entry point: ``python -I main.py --scratch DIR [--site DIR] [--preload a,b]``.

Started by :mod:`arcray.arc.sandbox.pool` inside the bubblewrap sandbox that
:mod:`arcray.arc.sandbox.confine` describes. It imports nothing from arcray, so neither it nor
the code it runs can reach arcray. Three kinds of process, each with one job:

- the supervisor (:mod:`supervisor`, this process; :mod:`handles` its view of the others): reads
  requests, decides verdicts, empties the scratch tmpfs (:mod:`scratch`);
- the template (:mod:`template`): forked before any request, warm, forks the children;
- a child per evaluation (:mod:`child`, with :mod:`guards`): reads its own request, confines
  itself and runs its role: :mod:`solve` (ARC), or one of :mod:`code_judge`'s two processes (the
  answer, the tests; :mod:`plain` is what crosses between them). :mod:`grids` says what a grid is.

Protocol with the caller: one JSON request per line on stdin, one JSON reply per line on the
original stdout (then pointed at /dev/null, like stderr).
"""

import os
import sys


def _option(name: str) -> str | None:
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv[:-1] else None


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the worker's own modules (-I adds nothing)
    site = _option("--site")
    if site:
        sys.path.insert(1, site)  # the packages the view holds for solvers (numpy, arcdsl)
    import supervisor

    scratch = _option("--scratch") or sys.exit("usage: main.py --scratch DIR [--site DIR] [--preload a,b]")
    supervisor.run(scratch, [p for p in (_option("--preload") or "").split(",") if p])
