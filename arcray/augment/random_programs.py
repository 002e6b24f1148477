"""Random well-formed arcdsl programs: the whole language, not only what the teacher happened to solve.

A student trained only on the teacher's solutions learns those few dozen programs as a prior; the
held-out tasks call for others. Random programs over every primitive, run on real training-side
inputs and relabelled with their own outputs (BARC's and CodeIt's synthetic tasks), show the
student what each call does to a grid, so that it can tell calls apart by what the pairs show.

Each parameter is drawn from its declared type, the same types the solver grammar reads
(:mod:`arcray.solver.grammar`): a ``Literal``'s words, a colour (one the grid has, for a
colour the call acts on), a small integer, a scale, a flag, a one- or two-colour map. Whether the
program does anything worth learning is for the sandbox and :func:`arcray.augment.verify.trivial` to judge.
"""

from __future__ import annotations

import functools
import random
import types
import typing
from typing import Any, Sequence

from arcray.solver.grammar import COLOUR_PARAMETERS, call_parameters
from arcray.solver.primitives import PRIMITIVES
from arcray.solver.program import Program, Step

SMALL_INTS = (0, 1, 1, 2, 2, 3)  # axes, counts, scales, offsets: ARC's rules use small ones
SCALES = (1, 1.5, 2, 3)
NEW_COLOUR = 0.5  # the chance that a colour parameter names any colour rather than one the grid has


@functools.lru_cache(maxsize=1)
def _signatures() -> dict[str, list[tuple[str, Any]]]:
    """Each primitive's parameters after the grid, with their type hints (every call the solver grammar allows)."""
    return {name: call_parameters(primitive.function) for name, primitive in sorted(PRIMITIVES.items())}


def _value(hint: Any, parameter: str, colours: Sequence[int], rng: random.Random) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        return rng.choice(args)
    if origin in (typing.Union, types.UnionType):
        return _value(rng.choice(args), parameter, colours, rng)
    if hint is type(None):
        return None
    if hint is bool:
        return rng.random() < 0.5
    if hint is int:
        return _colour(colours, rng) if parameter in COLOUR_PARAMETERS else rng.choice(SMALL_INTS)
    if hint is float:
        return rng.choice(SCALES)
    if origin is dict:
        sources = rng.sample(list(colours), min(len(colours), rng.choice((1, 1, 2))))
        return {c: rng.choice([d for d in range(10) if d != c]) for c in sources}
    raise TypeError(f"no random value for {parameter!r} of type {hint!r}")


def _colour(colours: Sequence[int], rng: random.Random) -> int:
    return rng.randrange(10) if not colours or rng.random() < NEW_COLOUR else rng.choice(list(colours))


def random_step(rng: random.Random, colours: Sequence[int]) -> Step:
    """One primitive, picked uniformly, with each parameter drawn from its type."""
    name = rng.choice(sorted(_signatures()))
    return Step(name, tuple(_value(hint, p, colours, rng) for p, hint in _signatures()[name]))


def random_program(rng: random.Random, colours: Sequence[int], max_steps: int = 2) -> Program:
    """A program of 1..``max_steps`` random steps (one step most often: most ARC rules the search finds are one)."""
    steps = 1 if max_steps < 2 or rng.random() < 0.6 else rng.randint(2, max_steps)
    return tuple(random_step(rng, colours) for _ in range(steps))
