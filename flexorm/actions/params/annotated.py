"""pydantic annotations for parameter values: lax where Jet Admin sends text, strict elsewhere.

- ``"abc"`` is not an int and ``true`` is not a number; ``"5"`` is the int 5.
- JSON numbers and numeric strings become Decimals; ISO 8601 strings datetimes (aware when the
  text has an offset).
- Text never contains NUL characters (PostgreSQL rejects them); numbers are finite and in the
  range the databases store, and numbers sent as text use the ASCII digits 0-9 only; JSON
  values are at most 64 levels deep.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, PlainValidator

from flexorm.actions.params.spec import Choice

__all__ = [
    "choice_annotation",
    "coercer_annotation",
    "decimal_annotation",
    "float_annotation",
    "int_annotation",
    "json_annotation",
    "json_check",
    "json_from_text",
    "not_blank",
    "set_annotation",
    "str_annotation",
]

MAX_JSON_DEPTH = 64
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# PostgreSQL's numeric limits: 131072 digits before the point, 16383 after.
_DECIMAL_MAX_ADJUSTED = 131071
_DECIMAL_MIN_EXPONENT = -16383


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("Text may not contain NUL characters.")
    return value


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("Enter a number, not true or false.")
    return value


def _ascii_digits(value: Any) -> Any:
    """Numbers as text are written with the digits 0-9 (Python also reads ``"١٢"`` and
    ``"1_000"``, which no user of a form means as a number)."""
    if isinstance(value, str) and (not value.isascii() or "_" in value):
        raise ValueError("Enter a number written with the digits 0-9.")
    return value


def _decimal_range(value: Decimal) -> Decimal:
    if value and (value.adjusted() > _DECIMAL_MAX_ADJUSTED
                  or value.as_tuple().exponent < _DECIMAL_MIN_EXPONENT):  # type: ignore[operator]
        raise ValueError("The number is out of range.")
    return value


def json_from_text(value: Any) -> Any:
    """JSON text decoded; any other value as it is."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
            raise ValueError("Enter valid JSON.") from None
    return value


def json_check(value: Any) -> Any:
    """Reject JSON deeper than the limit or holding NUL characters."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"JSON may be at most {MAX_JSON_DEPTH} levels deep.")
        if isinstance(item, str):
            _no_nul(item)
        elif isinstance(item, dict):
            stack.extend((k, depth) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list | tuple):
            stack.extend((v, depth + 1) for v in item)
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("This field may not be blank.")
    return value


not_blank = AfterValidator(_not_blank)
"""Refuses text of nothing but blanks (a ``Sql`` parameter)."""


def set_annotation(members: tuple[str, ...]) -> Any:
    """A MySQL ``SET`` value: its members as a list or as comma-separated text, each one of
    ``members``; given to the body as the column stores it (comma-separated, in the column's
    order)."""
    order = {member: index for index, member in enumerate(members)}

    def check(value: Any) -> str:
        if isinstance(value, str):
            chosen = [part for part in value.split(",") if part] if value else []
        elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            chosen = list(value)
        else:
            raise ValueError("Enter the chosen values as a list or as text separated by commas.")
        unknown = [v for v in chosen if v not in order]
        if unknown:
            allowed = ", ".join(repr(m) for m in members)
            raise ValueError(f"{unknown[0]!r} is not one of the allowed values: {allowed}.")
        return ",".join(sorted(set(chosen), key=order.__getitem__))

    return Annotated[str, PlainValidator(check)]


# Constraints (``Field(max_length=...)``, ``StringConstraints(strip_whitespace=True)``...) come
# right after the core type, flexorm's checks last: pydantic applies a constraint to the type
# itself only when nothing wraps it yet (else "at most 3 items", a length taken before
# stripping, or a constraint it cannot apply at all).


def str_annotation(*metadata: Any) -> Any:
    return Annotated[str, *metadata, AfterValidator(_no_nul)]


def int_annotation(*metadata: Any, low: int = INT64_MIN, high: int = INT64_MAX) -> Any:
    return Annotated[int, Field(ge=low, le=high), *metadata, BeforeValidator(_ascii_digits),
                     BeforeValidator(_no_bool)]


def float_annotation(*metadata: Any) -> Any:
    return Annotated[float, Field(allow_inf_nan=False), *metadata,
                     BeforeValidator(_ascii_digits), BeforeValidator(_no_bool)]


def decimal_annotation(*metadata: Any) -> Any:
    return Annotated[Decimal, Field(allow_inf_nan=False), *metadata,
                     AfterValidator(_decimal_range), BeforeValidator(_ascii_digits),
                     BeforeValidator(_no_bool)]


def json_annotation(core: Any, *metadata: Any) -> Any:
    """``dict`` / ``list`` (or their generics), also accepted as JSON text."""
    return Annotated[core, BeforeValidator(json_from_text), AfterValidator(json_check), *metadata]


def choice_annotation(choices: Iterable[Choice]) -> Any:
    """One of the choices, given by its value or its value's text (``"2"`` for ``2``)."""
    options = list(choices)
    exact: dict[tuple[type[Any], Any], Any] = {}
    by_text: dict[str, Any] = {}
    for choice in options:
        wire = choice.wire_value
        exact[(type(wire), wire)] = choice.value
        by_text.setdefault(str(wire), choice.value)
    shown = ", ".join(str(c.wire_value) for c in options[:20])

    def pick(value: Any) -> Any:
        if isinstance(value, str | int | float | bool):
            key = (type(value), value)
            if key in exact:
                return exact[key]
            if isinstance(value, str) and value in by_text:
                return by_text[value]
        raise ValueError(f"Select one of the options: {shown}.")

    return Annotated[Any, PlainValidator(pick)]


def coercer_annotation(coerce: Callable[[Any], Any]) -> Any:
    """A value passed through an id coercion (a foreign key's id)."""

    def check(value: Any) -> Any:
        try:
            return coerce(value)
        except ValueError as exc:
            raise ValueError(f"Not a valid id: {exc}.") from None

    return Annotated[Any, PlainValidator(check)]

