"""Plain data across a process boundary: the only thing the CODE judge lets an answer send.

None, bool, int, float, str and bytes, and lists, tuples, dicts, sets and frozensets of them.
JSON carries lists, strings, numbers, booleans and None as themselves; every other kind travels
as a one-key object (``{"tuple": [...]}``, ``{"dict": [[k, v], ...]}``, ``{"set": [...]}``,
``{"frozenset": [...]}``, ``{"bytes": "<hex>"}``), so a value arrives as exactly the type it
left as. Each value's exact type is checked (``json.dumps`` alone would write a ``str`` subclass
with a lying ``__eq__`` as its text), so an object with its own ``__eq__``, a subclass of a
plain type or a function never crosses. numpy scalars and arrays cross as the Python values
``.item()`` and ``.tolist()`` give.
"""

from __future__ import annotations

import json
import sys

MAX_DEPTH = 100
MAX_ITEMS = 2_000_000
_SCALARS = (type(None), bool, int, float, str)
_TAGS = ("tuple", "dict", "set", "frozenset", "bytes")


class NotPlain(ValueError):
    """A value that is not plain data (its message says what it is)."""


def dumps(value) -> bytes:
    """``value`` as one line of bytes, or NotPlain."""
    budget = [MAX_ITEMS]
    try:
        return json.dumps(_tag(value, 0, budget), separators=(",", ":")).encode()
    except (ValueError, RecursionError, OverflowError) as error:  # an int past str()'s digit limit, say
        raise NotPlain(f"cannot be written as plain data ({type(error).__name__})") from None


def loads(data: bytes):
    """The value one line of :func:`dumps` wrote, or NotPlain."""
    try:
        tagged = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise NotPlain(f"is not plain data ({type(error).__name__})") from None
    return _untag(tagged, 0)


def _tag(value, depth: int, budget: list):
    budget[0] -= 1
    if depth > MAX_DEPTH or budget[0] < 0:
        raise NotPlain("is nested too deep or holds too many items to be plain data")
    kind = type(value)
    if kind in _SCALARS:
        return value
    numpy = sys.modules.get("numpy")
    if numpy is not None and kind.__module__ == "numpy" and isinstance(value, (numpy.generic, numpy.ndarray)):
        return _tag(value.tolist() if isinstance(value, numpy.ndarray) else value.item(), depth, budget)
    if kind is list:
        return [_tag(item, depth + 1, budget) for item in value]
    if kind is tuple:
        return {"tuple": [_tag(item, depth + 1, budget) for item in value]}
    if kind is dict:
        return {"dict": [[_tag(k, depth + 1, budget), _tag(v, depth + 1, budget)] for k, v in value.items()]}
    if kind in (set, frozenset):
        return {kind.__name__: [_tag(item, depth + 1, budget) for item in value]}
    if kind is bytes:
        return {"bytes": value.hex()}
    raise NotPlain(f"is a {_type_name(value)}, which is not plain data")


def _untag(value, depth: int):
    if depth > MAX_DEPTH:
        raise NotPlain("is nested too deep to be plain data")
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is list:
        return [_untag(item, depth + 1) for item in value]
    if kind is dict and len(value) == 1:
        (tag, items), = value.items()
        if tag == "bytes" and type(items) is str:
            try:
                return bytes.fromhex(items)
            except ValueError:
                raise NotPlain("holds bytes that are not hex") from None
        if tag in _TAGS and type(items) is list:
            if tag == "dict":
                pairs = [_untag(pair, depth + 1) for pair in items]
                if not all(type(pair) is list and len(pair) == 2 for pair in pairs):
                    raise NotPlain("holds a dict entry that is not a key and a value")
                try:
                    return {k: v for k, v in pairs}
                except TypeError:
                    raise NotPlain("holds a dict key that cannot be hashed") from None
            converted = [_untag(item, depth + 1) for item in items]
            try:
                return {"tuple": tuple, "set": set, "frozenset": frozenset}[tag](converted)
            except TypeError:
                raise NotPlain(f"holds a {tag} item that cannot be hashed") from None
    raise NotPlain("is not plain data")


def _type_name(value) -> str:
    try:
        name = type(value).__qualname__
    except BaseException:  # a metaclass that lies
        name = "object"
    return name if isinstance(name, str) and name.isprintable() and len(name) <= 80 else "object"
