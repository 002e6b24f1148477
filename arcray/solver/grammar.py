"""The arcdsl solver language as a grammar, for decoding a student's programs under constraint.

A small student that has learned the form of an arcdsl solver still misnames functions and
miscounts their parameters: in the main job most of the fine-tuned SmolLM2's programs failed on
a TypeError or an unknown name, not on a wrong idea. Sampled under this grammar every program is
a well-formed solver: one to ``max_steps`` calls of the search's primitives, each with exactly its
own parameters, each parameter a literal of its declared type (the words of a ``Literal``, a
colour 0-9, a small integer, True/False, a colour map). What the program does is still the
model's choice; only the answers no interpreter would run are taken off the table.

The grammar is Lark, the syntax llguidance reads (the engine behind vLLM's structured outputs,
and behind arcray's HF backend), and it is derived from arcdsl's signatures, so a primitive
added to the search is in it with no edit here. The text it accepts is exactly what
``emit_solver(program)`` writes inside the training answers' code fence.
"""

from __future__ import annotations

import functools
import inspect
import json
import types
import typing
from typing import Any, Callable

from arcray.solver.emit import LIBRARY_IMPORT
from arcray.solver.primitives import PRIMITIVES  # the search's language: the functions a step may call
from arcray.solver.program import Program, parse_program

HEADER = f"```python\n{LIBRARY_IMPORT}\n\n\ndef solve(grid):\n"
FOOTER = "    return grid\n```"
STEP = "    grid = "
COLOUR_PARAMETERS = frozenset({"colour", "source", "hole", "default"})  # int parameters that name a colour

_TERMINALS = {
    "COLOUR": r"/[0-9]/",
    "INT": r"/-?[0-9]{1,2}/",
    "FLOAT": r"/[0-9]{1,2}(\.[0-9]{1,2})?/",  # 2 or 1.5: a float parameter takes an int too
    "BOOL": '"True" | "False"',
}


@functools.lru_cache(maxsize=8)
def solver_grammar(max_steps: int = 5) -> str:
    """The Lark grammar of a ```python block holding ``solve(grid)`` over 1..``max_steps`` arcdsl calls."""
    if max_steps < 1:
        raise ValueError("max_steps must be at least 1")
    rules = [
        f"start: {_literal(HEADER)} step{{1,{max_steps}}} {_literal(FOOTER)}",
        f"step: {_literal(STEP)} call {_literal(chr(10))}",
        "call: " + " | ".join(f"call_{name}" for name in sorted(PRIMITIVES)),
    ]
    rules += [f"call_{name}: {_call(name, PRIMITIVES[name].function)}" for name in sorted(PRIMITIVES)]
    rules.append('colour_map: "{}" | "{" map_entry (", " map_entry){0,9} "}"')  # at most ten colours to map
    rules.append('map_entry: INT ": " COLOUR')
    rules += [f"{name}: {pattern}" for name, pattern in _TERMINALS.items()]
    return "\n".join(rules) + "\n"


def call_parameters(function: Callable[..., Any]) -> list[tuple[str, Any]]:
    """A primitive's parameters after the grid (which always comes first, as `grid`), each with its type hint."""
    plain = inspect.unwrap(function)
    hints = typing.get_type_hints(plain)
    return [(parameter, hints.get(parameter, Any)) for parameter in list(inspect.signature(plain).parameters)[1:]]


def _call(name: str, function: Callable[..., Any]) -> str:
    """``"upscale(grid, " INT ", " INT ")"``: the call with each parameter's literal form."""
    parameters = call_parameters(function)
    if not parameters:
        return _literal(f"{name}(grid)")
    parts = [_literal(f"{name}(grid, ")]
    for index, (parameter, hint) in enumerate(parameters):
        if index:
            parts.append(_literal(", "))
        parts.append(_value(hint, parameter, name))
    parts.append(_literal(")"))
    return " ".join(parts)


def _value(hint: Any, parameter: str, function: str) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        return "(" + " | ".join(_literal(repr(word)) for word in args) + ")"
    if origin in (typing.Union, types.UnionType):
        return "(" + " | ".join(_value(arg, parameter, function) for arg in args) + ")"
    if hint is type(None):
        return _literal("None")
    if hint is bool:
        return "BOOL"
    if hint is int:
        return "COLOUR" if parameter in COLOUR_PARAMETERS else "INT"
    if hint is float:
        return "FLOAT"
    if origin is dict:
        return "colour_map"
    raise TypeError(
        f"arcdsl.{function}'s parameter {parameter!r} has type {hint!r}, which the solver grammar has no literal "
        "form for; give it a Literal, int, float, bool or dict[int, int] annotation"
    )


def _literal(text: str) -> str:
    return json.dumps(text)  # a Lark string literal: JSON's escapes are Lark's


def read_program(answer: str) -> Program:
    """The program an answer (or a library solver's code) holds: its ``grid = …`` calls, read back
    by ``parse_program``; ValueError if one is not a primitive applied to ``grid`` and literals."""
    step = STEP.lstrip()
    calls = [line.strip().removeprefix(step) for line in answer.splitlines() if line.strip().startswith(step)]
    return parse_program(calls)
