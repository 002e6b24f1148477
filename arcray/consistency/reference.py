"""Worked reference solutions as training records: the supervised warm start before self-distillation.

Plan 002's phase 1B starts from a model that was already fine-tuned (its phase 1A) and solves
most MATH problems; a raw small model answers almost nothing, so there is no consistent answer
to distil. ``reference_records`` turns a dataset's worked solutions (the generator's, GSM8K's,
HumanEval's canonical code) into the same records ``arcray sc-generate`` writes, so
``arcray prepare`` and ``arcray train`` take them unchanged.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from arcray.consistency.categories import get_category
from arcray.consistency.problems import Problem
from arcray.errors import ArcrayError

_CALCULATOR = re.compile(r"<<[^<>]*>>")  # GSM8K's calculator annotations: "3*4 = <<3*4=12>>12"


def reference_text(problem: Problem) -> str | None:
    """The answer a model should give: the worked solution as the category writes it (CODE: in a
    python block), by default without calculator annotations; None when the problem has none."""
    if not problem.solution:
        return None
    write = get_category(problem.category).reference_response
    if write is not None:
        return write(problem.solution)
    return _CALCULATOR.sub("", problem.solution).strip()


def reference_records(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    """One training record per problem with a reference solution; ArcrayError when none has one."""
    records = []
    for problem in problems:
        text = reference_text(problem)
        if text is None:
            continue
        records.append({"id": f"{problem.id}#ref", "prompt": problem.prompt, "response": text,
                        "category": problem.category, "source": problem.source, "answer": problem.reference,
                        "correct": True, "origin": "reference"})
    if not records:
        raise ArcrayError("none of the selected problems has a worked solution; use arith, gsm8k:PATH, humaneval "
                          "or mbpp:PATH for a warm start")
    return records
