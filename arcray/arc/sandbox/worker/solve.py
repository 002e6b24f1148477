"""The ``solve`` role (ARC): ``solve(grid)`` from the code on each input, one reply line per input,
in order, each with what the code printed since the last. The supervisor accepts each line only
for the input it waits for; this file only runs the code and reports.
"""

from __future__ import annotations

import builtins

import grids
from child import CappedText, compile_source, describe, send


def run(request: dict, captured: CappedText) -> None:
    inputs, start = request["inputs"], int(request["start"])
    namespace = {"__name__": "solver", "__builtins__": builtins}
    compiled, failure = compile_source(request["code"], "<solver>")
    if compiled is not None:
        try:
            exec(compiled, namespace)
            solve = namespace.get("solve")
            if not callable(solve):
                raise LookupError("the code defines no function solve(grid)")
        except LookupError as error:
            failure = ("invalid_code", str(error))
        except MemoryError:
            failure = ("memory", "MemoryError while loading the code")
        except BaseException as error:  # the solver's own module-level code failed
            failure = ("exception", f"while loading the code: {describe(error)}")
    for offset, grid in enumerate(inputs):
        if failure:
            kind, message, result = failure[0], failure[1], None
        else:
            try:
                converted = grids.converted(solve([list(row) for row in grid]))
            except MemoryError:
                converted = ("memory", "MemoryError: the solver exceeded its memory limit")
            except BaseException as error:  # SystemExit and KeyboardInterrupt from the solver too
                converted = ("exception", describe(error))
            kind, message, result = (converted[0], converted[1], None) if isinstance(converted, tuple) else ("ok", "", converted)
        send({"index": start + offset, "kind": kind, "grid": result, "message": message, "stdout": captured.take()})
