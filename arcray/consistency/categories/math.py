"""MATH: word problems with one numeric answer; correct when the final number equals the reference."""

from __future__ import annotations

from arcray.consistency.categories.registry import CategorySpec, Temperatures, register_category
from arcray.consistency.extract import extract_number, normalize_number

MATH = register_category(CategorySpec(
    name="math",
    temperatures=Temperatures(generate=0.0, train=0.0),  # exact answers: maximise determinism
    description="word problems with a numeric answer, ending '#### N' (arith, gsm8k:PATH)",
    extract=extract_number,
    normalize_reference=normalize_number,
    default_source="arith",
))
