"""Categories of prompts: what each one is (a :class:`CategorySpec`), registered once by name.

    from arcray.consistency.categories import get_category

    get_category("math").temperatures  # Temperatures(generate=0.0, train=0.0): seed 002's table
    get_category("maths")              # ConfigError: unknown category 'maths' (did you mean 'math'?); choose one of ...

A category is one module that calls ``register_category(CategorySpec(...))`` and is imported
before it is used: ``parse_category``, ``TemperatureTable``, a dataset's or a gate criterion's
``category``, the judge, prompt files and reference records all read the registry. The built-ins
(seed 002, "Category-Specific Self-Consistency Distillation"):

| module | categories | answer | correct when |
| --- | --- | --- | --- |
| ``math`` | math | the final number | it equals the reference |
| ``code`` | code | the function, in normal form | the problem's tests pass in the sandbox |
| ``text`` | reasoning, creativity, knowledge, instruction | the text after "answer:" | it equals the reference |
"""

from arcray.consistency.categories.registry import (
    CATEGORIES,
    DEFAULT_SOURCES,
    DEFAULT_TEMPERATURES,
    REGISTRY,
    Category,
    CategorySpec,
    TemperatureTable,
    Temperatures,
    get_category,
    parse_category,
    register_category,
)

# The built-in categories register themselves when imported; this order is the order they list in.
from arcray.consistency.categories import math, code, text  # noqa: E402,F401  isort: skip

from arcray.plugins import import_modules  # noqa: E402

import_modules(__name__, __path__)  # any other module here is a category too: one new file, no edit here

__all__ = [
    "CATEGORIES", "DEFAULT_SOURCES", "DEFAULT_TEMPERATURES", "REGISTRY", "Category", "CategorySpec",
    "TemperatureTable", "Temperatures", "get_category", "parse_category", "register_category",
]
