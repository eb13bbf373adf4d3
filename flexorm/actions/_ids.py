"""Coercing record ids (and foreign key values) to a column's Python type."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from flexorm.reflection.records import ColumnInfo

__all__ = ["IdCoercer", "id_coercer"]

IdCoercer = Callable[[Any], Any]
"""``(raw id) -> id``; raises ``ValueError`` with a message for the user."""

_MAX_ID_TEXT = 1000


_INT64 = 2**63


def _to_int(value: Any) -> int:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.lstrip("+-").isdigit() and text.isascii() and len(text) <= 21:
            number = int(text)
    if number is None:
        raise ValueError("not a whole number")
    if not -_INT64 <= number < _INT64:
        raise ValueError("out of range")
    return number


def _to_uuid(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value.strip())
        except ValueError:
            pass
    raise ValueError("not a UUID")


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            pass
        else:
            if number.is_finite():
                return number
    raise ValueError("not a number")


def _to_str(value: Any) -> str:
    if isinstance(value, bool):
        raise ValueError("not a valid id")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("contains a NUL character")
        return value
    raise ValueError("not a valid id")


def id_coercer(column: ColumnInfo) -> IdCoercer:
    """The coercion for ids of ``column``: ``"5"`` → ``5`` for an integer column, and so on.

    Examples:
        >>> col = ColumnInfo("id", sa.Integer(), nullable=False, primary_key=True,
        ...                  autoincrement=True)
        >>> id_coercer(col)("5")
        5
    """
    kind = column.type
    base: IdCoercer
    if isinstance(kind, sa.Integer):
        base = _to_int
    elif isinstance(kind, sa.Uuid):
        base = _to_uuid
    elif isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        base = _to_decimal
    else:
        base = _to_str

    def coerce(value: Any) -> Any:
        if isinstance(value, str) and len(value) > _MAX_ID_TEXT:
            raise ValueError("is too long")
        return base(value)

    return coerce
