"""Coercing record ids (and foreign key values) to a column's Python type.

The coerced id is compared in SQL and with the value read back from the row, so it must have the
column's Python type: ``5`` for an integer key, a ``datetime`` for a timestamp key (Pagila's
``payment`` is keyed by ``(payment_date, payment_id)``), a ``Decimal`` for a numeric one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from flexorm.reflection.records import ColumnInfo
from flexorm.reflection.typemap import base_type

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
    if isinstance(value, str) and (not value.isascii() or "_" in value):
        raise ValueError("not a number written with the digits 0-9")
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            pass
        else:
            if number.is_finite():
                return number
    raise ValueError("not a number")


def _iso_text(value: Any, what: str) -> str:
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError(f"not an ISO 8601 {what}")
    return value.strip()


def _to_datetime(aware: bool) -> Callable[[Any], dt.datetime]:
    """Timestamps as Jet Admin shows them (``2022-01-25T14:45:02.21+00:00``, ``... 14:45:02Z``).

    A ``timestamp with time zone`` id without an offset is taken as UTC; a plain ``timestamp``
    id with one is converted to UTC, so it compares equal to the value read from the row.
    """

    def parse(value: Any) -> dt.datetime:
        if isinstance(value, dt.datetime):
            parsed = value
        else:
            try:
                parsed = dt.datetime.fromisoformat(_iso_text(value, "date and time"))
            except ValueError:
                raise ValueError("not an ISO 8601 date and time") from None
        if aware and parsed.tzinfo is None:
            return parsed.replace(tzinfo=dt.UTC)
        if not aware and parsed.tzinfo is not None:
            return parsed.astimezone(dt.UTC).replace(tzinfo=None)
        return parsed

    return parse


def _to_date(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(_iso_text(value, "date"))
    except ValueError:
        raise ValueError("not an ISO 8601 date") from None


def _to_time(value: Any) -> dt.time:
    if isinstance(value, dt.time):
        return value
    try:
        return dt.time.fromisoformat(_iso_text(value, "time"))
    except ValueError:
        raise ValueError("not an ISO 8601 time") from None


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
    kind = base_type(column.type)  # a DOMAIN over integer coerces as an integer
    base: IdCoercer
    if isinstance(kind, sa.Integer):
        base = _to_int
    elif isinstance(kind, sa.Uuid):
        base = _to_uuid
    elif isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        base = _to_decimal
    elif isinstance(kind, sa.DateTime):
        base = _to_datetime(bool(kind.timezone))
    elif isinstance(kind, sa.Date):
        base = _to_date
    elif isinstance(kind, sa.Time):
        base = _to_time
    else:
        base = _to_str

    def coerce(value: Any) -> Any:
        if isinstance(value, str) and len(value) > _MAX_ID_TEXT:
            raise ValueError("is too long")
        return base(value)

    if base is _to_int:
        def coerce_int(value: Any) -> Any:
            # the usual id, a JSON integer, without the general checks
            if type(value) is int and -_INT64 <= value < _INT64:
                return value
            return coerce(value)

        return coerce_int
    return coerce
