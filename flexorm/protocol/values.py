"""Values no database takes, found in a decoded message before anything else reads it.

JSON can carry two things that are not data: a lone UTF-16 surrogate (``"\\ud800"``, which no
database encoding can store) and a number beyond what a float holds (``1e400`` decodes to
infinity; ``NaN`` and ``Infinity`` are not JSON, but clients send them). :func:`refusal` finds
the first one and says where; :func:`scrub` makes a copy fit to be recorded (in the journal):
a lone surrogate becomes U+FFFD, a non-finite number its text.

Both walk only what JSON decodes to (dicts, lists, strings, numbers).
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["Refusal", "refusal", "scrub", "suspect"]

_SURROGATE = re.compile("[\ud800-\udfff]")
_SUSPECT = re.compile(rb"\\u[dD][89a-fA-F]|[eE][+]?\d{3}|\d{309}|NaN|Infinity")

Refusal = tuple[tuple[str, ...], str]
"""Where the refused value is (the keys down to it) and why it is refused."""

LONE_SURROGATE = "must be valid text: it holds a lone surrogate (a half of a UTF-16 pair)"
NOT_FINITE = "must be a finite number (not NaN, Infinity, nor beyond ±1.8e308)"


def suspect(body: bytes) -> bool:
    """Whether a JSON body could hold such a value (a cheap scan: most bodies cannot)."""
    return _SUSPECT.search(body) is not None


def refusal(value: Any) -> Refusal | None:
    """The first lone surrogate or non-finite number in ``value``, or ``None``.

    Examples:
        >>> refusal({"params": {"note": "ok", "amount": float("inf")}})
        (('params', 'amount'), 'must be a finite number (not NaN, Infinity, nor beyond ±1.8e308)')
        >>> refusal({"ids": [1, 2]}) is None
        True
    """
    stack: list[tuple[tuple[str, ...], Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return path, LONE_SURROGATE
        elif isinstance(item, float):
            if not math.isfinite(item):
                return path, NOT_FINITE
        elif isinstance(item, dict):
            for key, inner in reversed(item.items()):
                if isinstance(key, str) and _SURROGATE.search(key):
                    return path, LONE_SURROGATE
                stack.append(((*path, str(key)), inner))
        elif isinstance(item, list):
            stack.extend(((*path, str(i)), inner) for i, inner in reversed(list(
                enumerate(item))))
    return None


def scrub(value: Any) -> Any:
    """``value`` with lone surrogates replaced by U+FFFD and non-finite numbers by their text.

    Examples:
        >>> scrub({"a\\ud800": [float("nan"), "x\\udfff"]})
        {'a�': ['nan', 'x�']}
    """
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value
