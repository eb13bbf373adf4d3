"""Coercing record ids (and foreign key values) to a column's Python type.

The coerced id is bound as a value of the column's type and compared in SQL, so the database's
own equality decides which rows it names; it is also compared with the value read back from the
row, the quick way to tell which id names which row, so it has the column's Python type where
flexorm knows it: ``5`` for an integer key, ``1.5`` for a floating-point one, ``True`` for a
boolean, a ``datetime`` for a timestamp key (Pagila's ``payment`` is keyed by ``(payment_date,
payment_id)``), a ``Decimal`` for a numeric one, ``bytes`` (sent as base64, as flexorm writes
them) for a binary one, a ``timedelta`` (sent as seconds) for an interval, and one sent as
``[-]HH:MM:SS`` (as flexorm writes it) for a MySQL ``TIME``, which holds durations.

Keys whose values Python cannot hold as a record's identity (a MySQL ``SET``, an array, a JSON
document) name no record: their ids are refused.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from flexorm.actions.params.kinds import parse_duration
from flexorm.reflection.records import CollectionInfo, ColumnInfo
from flexorm.reflection.typemap import (
    base_type,
    integer_bounds,
    is_mysql_boolean,
    kind_by_name,
    mysql_name,
    set_values,
)

__all__ = ["IdCoercer", "id_coercer", "key_problem", "record_id_coercer"]

IdCoercer = Callable[[Any], Any]
"""``(raw id) -> id``; raises ``ValueError`` with a message for the user."""

_MAX_ID_TEXT = 1000

_INT64 = 2**63
_UINT64 = 2**64


def _whole(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("+-").isdigit() and text.isascii() and len(text) <= 21:
            return int(text)
    raise ValueError("not a whole number")


def _to_int(low: int, high: int) -> IdCoercer:
    """Whole numbers from ``low`` up to (not including) ``high``."""

    def to_int(value: Any) -> int:
        number = _whole(value)
        if not low <= number < high:
            raise ValueError(f"out of range: from {low} to {high - 1}")
        return number

    return to_int


_TRUE = frozenset({"true", "t", "1"})
_FALSE = frozenset({"false", "f", "0"})


def _truth(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
    raise ValueError("not true or false")


def _to_flag(value: Any) -> int:
    """MySQL's ``BOOLEAN`` (a ``TINYINT(1)``, which holds -128 to 127): ``true`` is 1."""
    if isinstance(value, bool) or (isinstance(value, str) and value.strip().lower()
                                   in ("true", "false")):
        return int(_truth(value))
    try:
        number: int = _to_int(-128, 128)(value)
    except ValueError:
        raise ValueError("not true, false or a whole number") from None
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


def _to_float(value: Any) -> float:
    try:
        number = float(_to_decimal(value))
    except (ValueError, OverflowError):
        number = math.nan
    if not math.isfinite(number):
        raise ValueError("not a number")
    return number


def _to_duration(value: Any) -> dt.timedelta:
    """An interval, as flexorm writes one: its length in seconds."""
    if isinstance(value, dt.timedelta):
        return value
    try:
        seconds = float(_to_decimal(value))
        if math.isfinite(seconds):
            return dt.timedelta(seconds=seconds)
    except (ValueError, OverflowError):
        pass
    raise ValueError("not a duration in seconds")


def _to_bytes(value: Any) -> bytes:
    """Binary values, as flexorm writes them: base64."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str) and value.isascii():
        try:
            return base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            pass
    raise ValueError("not base64, as binary values are sent")


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


_TIME_OF_DAY = "not an ISO 8601 time of day, 00:00:00 to 23:59:59"


def _to_time(value: Any) -> dt.time:
    """A time of day: what a ``TIME`` value reads as."""
    if isinstance(value, dt.time):
        return value
    try:
        return dt.time.fromisoformat(_iso_text(value, "time"))
    except ValueError:
        raise ValueError(_TIME_OF_DAY) from None


_MYSQL_TIME = "not a time from -838:59:59 to 838:59:59, as [-]hours:minutes[:seconds]"


def _to_mysql_time(value: Any) -> dt.timedelta:
    """A MySQL ``TIME``: a duration, as flexorm writes it (``100:00:00``, ``-01:30:00``)."""
    if isinstance(value, str) and len(value) > 64:
        raise ValueError(_MYSQL_TIME)
    try:
        return parse_duration(value.strip() if isinstance(value, str) else value)
    except ValueError:
        raise ValueError(_MYSQL_TIME) from None


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


_SHOWN_MEMBERS = 10


def _loosely(text: str) -> str:
    """Text as MySQL's default collations compare it: without case or trailing blanks."""
    return text.rstrip(" ").casefold()


def _to_member(members: tuple[str, ...], *, any_case: bool) -> IdCoercer:
    """Text naming one of an enum type's ``members`` (``any_case``: compared without case, as
    MySQL's and MariaDB's ``ENUM`` compares): another names no record, and PostgreSQL refuses
    it as the statement's error rather than the field's."""
    known = frozenset(_loosely(member) for member in members) if any_case else frozenset(
        members)
    shown = ", ".join(repr(member) for member in members[:_SHOWN_MEMBERS])
    more = ", ..." if len(members) > _SHOWN_MEMBERS else ""

    def to_member(value: Any) -> str:
        text = _to_str(value)
        if (_loosely(text) if any_case else text) not in known:
            raise ValueError(f"not one of {shown}{more}")
        return text

    return to_member


def _as_sent(value: Any) -> Any:
    """A SQLite column declared without a type holds each value as it was written: an id keeps
    its JSON type (``1`` names the integer 1, ``"1"`` the text)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return _to_str(value)


def key_problem(column: ColumnInfo) -> str | None:
    """Why values of ``column`` cannot identify a record (``None`` when they can).

    A record's identity is held in a dictionary: a value that Python reads back as a ``set``
    (MySQL's ``SET``), a ``list`` (an array) or a ``dict`` (JSON, ``hstore``) cannot be one.
    """
    kind = base_type(column.type)
    if set_values(kind) is not None:
        what = "a SET column"
    elif isinstance(kind, sa.ARRAY):
        what = "an array column"
    elif isinstance(kind, sa.JSON | postgresql.HSTORE):
        what = "a JSON column"
    else:
        return None
    return f"{column.name} is {what}, whose values cannot identify a record"


def _refused(problem: str) -> IdCoercer:
    def refuse(value: Any) -> Any:
        raise ValueError(problem)

    return refuse


def _int_range(column: ColumnInfo, dialect: str | None) -> tuple[int, int]:
    """The whole numbers an integer key's ids may be, ``[low, high)``: what the column stores
    on ``dialect`` (an id beyond it names no record, and the database would refuse it as a
    statement's error rather than the field's); 64 bits, unsigned ones for MySQL's
    ``UNSIGNED`` and ``BIT``, where the database is not known; ``(0, 0)`` for any other
    key."""
    kind = base_type(column.type)
    name = mysql_name(type(kind))
    if not (isinstance(kind, sa.Integer) or name in ("YEAR", "BIT")):
        return 0, 0
    if dialect is not None:
        low, high = integer_bounds(kind, dialect)
        return low, high + 1
    if name == "BIT" or getattr(kind, "unsigned", False):
        return 0, _UINT64
    return -_INT64, _INT64


def _base(column: ColumnInfo, dialect: str | None) -> IdCoercer:
    kind = base_type(column.type)  # a DOMAIN over integer coerces as an integer
    problem = key_problem(column)
    if problem is not None:
        return _refused(problem)
    if isinstance(kind, sa.Boolean):
        return _truth
    if is_mysql_boolean(kind):
        return _to_flag
    low, high = _int_range(column, dialect)
    if high:
        return _to_int(low, high)
    if isinstance(kind, sa.Uuid):
        return _to_uuid
    if isinstance(kind, sa.Enum) and kind.enums:
        return _to_member(tuple(kind.enums), any_case=mysql_name(type(kind)) == "ENUM")
    if isinstance(kind, sa.Float):
        return _to_float
    if isinstance(kind, sa.Numeric):
        return _to_decimal
    if isinstance(kind, sa.DateTime):
        return _to_datetime(bool(kind.timezone))
    if isinstance(kind, sa.Date):
        return _to_date
    if mysql_name(type(kind)) == "TIME":  # a duration, beyond a day and below zero
        return _to_mysql_time
    if isinstance(kind, sa.Time):
        return _to_time
    if isinstance(kind, sa.Interval | postgresql.INTERVAL):
        return _to_duration
    if (isinstance(kind, sa.LargeBinary | sa.BINARY | sa.VARBINARY)
            or kind_by_name(type(kind)) == "binary"):
        return _to_bytes
    if dialect == "sqlite" and isinstance(kind, sa.types.NullType):
        return _as_sent
    return _to_str


def id_coercer(column: ColumnInfo, dialect: str | None = None) -> IdCoercer:
    """The coercion for ids of ``column``: ``"5"`` → ``5`` for an integer column, and so on.

    ``dialect`` tells a SQLite column declared without a type (whose values keep the type they
    were written with) from a type SQLAlchemy does not know (compared as text).

    Examples:
        >>> col = ColumnInfo("id", sa.Integer(), nullable=False, primary_key=True,
        ...                  autoincrement=True)
        >>> id_coercer(col)("5")
        5
    """
    base = _base(column, dialect)

    def coerce(value: Any) -> Any:
        if isinstance(value, str) and len(value) > _MAX_ID_TEXT:
            raise ValueError("is too long")
        return base(value)

    low, high = _int_range(column, dialect)
    if base is not _to_flag and high:
        def coerce_int(value: Any) -> Any:
            # the usual id, a JSON integer, without the general checks
            if type(value) is int and low <= value < high:
                return value
            return coerce(value)

        return coerce_int
    return coerce


def record_id_coercer(collection: CollectionInfo, dialect: str | None = None) -> IdCoercer:
    """The coercion for ids of ``collection``'s records: a value of its first key column, or a
    full key (an object naming every key column) as a tuple of the key's values, in key order.

    Examples:
        >>> from flexorm.reflection.records import CollectionInfo
        >>> cols = {n: ColumnInfo(n, sa.Integer(), False, True, False) for n in ("a", "b")}
        >>> coerce = record_id_coercer(CollectionInfo("t", "t", None, False, cols, ("a", "b"),
        ...                                           False, True))
        >>> coerce("1"), coerce({"b": "2", "a": 1})
        (1, (1, 2))
    """
    first = id_coercer(collection.columns[collection.primary_key_field], dialect)
    key = collection.primary_key
    parts = tuple(id_coercer(collection.columns[name], dialect) for name in key)

    def coerce(value: Any) -> Any:
        if not isinstance(value, Mapping):
            return first(value)
        if not collection.has_primary_key:
            raise ValueError(f"{collection.name} has no primary key; send the value of its "
                             f"first column, {collection.primary_key_field}")
        if set(value) != set(key):
            raise ValueError(f"a full key names exactly the key columns: {', '.join(key)}")
        values: list[Any] = []
        for name, part in zip(key, parts, strict=True):
            try:
                values.append(part(value[name]))
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        return tuple(values)

    return coerce
