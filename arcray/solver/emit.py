"""Turn a program into `solve(grid)` source, in one of two forms.

- ``library`` (what the teacher records and the student learns): a few lines calling the
  :mod:`arcdsl` library, which the sandbox lets solvers import;
- ``standalone`` (for export to tools outside arcray): numpy and the standard library only. The
  emitter copies the source of exactly the DSL functions the program calls, plus the helpers and
  module constants those refer to, found by walking the names their code objects use.
"""

from __future__ import annotations

import inspect
import textwrap
import types
from typing import Callable, Literal, Sequence

from arcray.solver.primitives import PRIMITIVES
from arcray.solver.program import Step, describe

_DSL_PACKAGE = "arcdsl"
_ALLOWED_GLOBALS = {"np"}
LIBRARY_IMPORT = "from arcdsl import *"
Form = Literal["library", "standalone"]


def emit_solver(program: Sequence[Step], spec: str | None = None, form: Form = "library") -> str:
    """Return the Python source of `solve(grid)` for the program, with the spec as its docstring
    (described from the program when None; no docstring when empty)."""
    spec = describe(program) if spec is None else spec
    if form == "library":
        body = [*(f"grid = {step.call_source()}" for step in program), "return grid"]
        return f"{LIBRARY_IMPORT}\n\n\ndef solve(grid):\n" + _docstring(spec) + "".join(f"    {line}\n" for line in body)
    definitions: dict[str, str] = {}
    for step in program:
        _collect(PRIMITIVES[step.name].function, definitions)
    body = ["grid = np.array(grid)", *(f"grid = {step.call_source()}" for step in program), "return grid.tolist()"]
    solve = "def solve(grid):\n" + _docstring(spec) + "".join(f"    {line}\n" for line in body)
    # Annotations stay text (never evaluated), so a copied signature may name arcdsl's Literal types.
    return "\n\n".join(["from __future__ import annotations\n\nimport numpy as np\n", *definitions.values(), solve])


def _docstring(spec: str, width: int = 96) -> str:
    if not spec:
        return ""
    if len(spec) + 10 <= width:
        return f'    """{spec}"""\n'
    lines = textwrap.wrap(spec, width=width - 4)
    return '    """' + "\n    ".join(lines) + '\n    """\n'


def _collect(function: Callable, definitions: dict[str, str]) -> None:
    """Add the function's source to `definitions`, after the sources of the DSL names it uses."""
    plain = inspect.unwrap(function)
    if plain.__name__ in definitions:
        return
    definitions[plain.__name__] = ""  # reserve the name first, so that mutual references terminate
    namespace = plain.__globals__
    for name in sorted(_names_used(plain.__code__)):
        if name in _ALLOWED_GLOBALS or name not in namespace:
            continue  # numpy, a builtin, or an attribute name such as `shape`
        value = namespace[name]
        if callable(value) and getattr(inspect.unwrap(value), "__module__", "").startswith(_DSL_PACKAGE):
            _collect(value, definitions)
        elif isinstance(value, (int, str, tuple, dict, frozenset)):
            definitions.setdefault(name, f"{name} = {value!r}\n")
        else:
            raise TypeError(
                f"{plain.__name__} uses {name!r}, which a standalone solver cannot carry; "
                "DSL code may refer only to np, builtins, DSL functions and literal constants"
            )
    definitions.pop(plain.__name__)
    source = inspect.getsource(plain)
    definitions[plain.__name__] = source[source.index("def ") :].rstrip() + "\n"  # drop decorators


def _names_used(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _names_used(constant)
    return names
