"""The plain-text categories: the answer is the text after a final "answer:" (else the whole
reply), normalised, and correct when it equals the normalised reference, when there is one.

They differ only in the plan's temperatures, so they share this file and the registry's
defaults; a category that needs its own extractor, judge or prompt gets a file of its own, as
math and code have.
"""

from __future__ import annotations

from arcray.consistency.categories.registry import CategorySpec, Temperatures, register_category
from arcray.llm.types import DEFAULT_TEMPERATURE

REASONING = register_category(CategorySpec(
    name="reasoning",
    temperatures=Temperatures(generate=0.1, train=0.0),  # slight diversity, trained deterministically
    description="reasoning questions with a short final answer",
))
CREATIVITY = register_category(CategorySpec(
    name="creativity",
    temperatures=Temperatures(generate=DEFAULT_TEMPERATURE, train=0.3),  # generate creatively, reproduce consistently
    description="open-ended writing; usually no reference, so consistency only",
))
KNOWLEDGE = register_category(CategorySpec(
    name="knowledge",
    temperatures=Temperatures(generate=0.0, train=0.0),  # factual precision
    description="factual questions with a short answer",
))
INSTRUCTION = register_category(CategorySpec(
    name="instruction",
    temperatures=Temperatures(generate=0.2, train=0.0),  # follow instructions precisely
    description="instructions to follow",
))
