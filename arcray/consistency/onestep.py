"""A seeded generator of one-step arithmetic problems: the ``arith-1step`` family.

The multi-step ``arith`` problems (:mod:`arcray.consistency.mathgen`) are far beyond SmolLM2-135M
(accuracy about 0), so distilling its self-consistency on them has nothing to sharpen. These ask one
addition of two one-digit numbers, bare ("What is 7 + 5?") or in one sentence ("Maria has 8 apples
and buys 5 more..."), on which the embedded student is right part of the time (see
docs/consistency.md for the measured accuracies). Problem ``index`` of ``seed`` comes from its own
random stream, the splits are made on the question text exactly as arith's (:func:`in_heldout`: one
tenth held out, so no question is on both sides), and every problem is verified: its one
``<<expr=value>>`` step is re-computed and its final line is ``#### answer``.
"""

from __future__ import annotations

import itertools
import random
from typing import Callable, Iterator

from arcray.consistency.mathgen import ITEMS, NAMES, MathProblem, Split, _Steps, in_heldout, verify

FAMILY = "arith-1step"


def _sum(rng: random.Random, s: _Steps) -> tuple[str, int]:
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    return f"What is {a} + {b}?", s.say("The sum is", f"{a}+{b}")


def _buys_more(rng: random.Random, s: _Steps) -> tuple[str, int]:
    name, (_, many) = rng.choice(NAMES), rng.choice(ITEMS)
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    question = f"{name} has {a} {many} and buys {b} more. How many {many} does {name} have now?"
    return question, s.say(f"{name} has", f"{a}+{b}")


# Subtractions were tried and dropped: on development prompts the student got 4-9% of them right (docs/consistency.md).
TEMPLATES: tuple[Callable[[random.Random, _Steps], tuple[str, int]], ...] = (_sum, _buys_more)


def one_step_problem(seed: int, index: int) -> MathProblem:
    """Problem ``index`` of the stream ``seed``: the same on every machine and every call."""
    rng = random.Random(f"arcray-math-1step:{seed}:{index}")
    steps = _Steps()
    question, answer = rng.choice(TEMPLATES)(rng, steps)
    problem = MathProblem(id=f"{FAMILY}-{seed}-{index}", question=question, solution=steps.solution(answer), answer=answer)
    verify(problem)
    return problem


def iter_one_step_problems(seed: int = 0, split: Split = "all") -> Iterator[MathProblem]:
    """The endless stream of one-step problems of ``seed`` that belong to ``split``; a question drawn
    twice (the ranges are small) is given once, so a range never repeats a prompt."""
    seen: set[str] = set()
    for index in itertools.count():
        problem = one_step_problem(seed, index)
        if problem.question in seen:
            continue
        seen.add(problem.question)
        if split == "all" or (split == "heldout") == in_heldout(problem.question):
            yield problem
