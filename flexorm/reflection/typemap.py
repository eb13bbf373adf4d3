"""Column types to the Jet Admin field types of model descriptions: one explicit, ordered table.

(Action parameters have their own field table, :mod:`flexorm.actions.params.fields`.)

The first match wins, so subclasses come before their bases: ``Enum`` is a ``String``,
``BigInteger`` an ``Integer``, ``TIMESTAMP`` a ``DateTime``. ``python_type`` is never consulted (it
raises for many types and lies for others). Wrappers are looked through first: a PostgreSQL
``DOMAIN`` maps as its base type, a ``TypeDecorator`` as its ``impl``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.types import TypeEngine

from flexorm.protocol.durations import Duration
from flexorm.reflection.records import ColumnInfo

__all__ = [
    "FIELD_TYPES",
    "AsStored",
    "MySQLTime",
    "Spatial",
    "Unrecognized",
    "base_type",
    "db_internal_type",
    "field_types",
    "integer_bounds",
    "is_decimal_number",
    "is_known_type",
    "is_mysql_boolean",
    "kind_by_name",
    "mysql_name",
    "python_type_of",
    "set_values",
]

class Spatial(sa.types.UserDefinedType[Any]):
    """A spatial column (MySQL's ``GEOMETRY``, ``POINT``...), for which SQLAlchemy has no type:
    shown as a ``CharField`` under its own name, where an unknown type would warn."""

    cache_ok = True

    def __init__(self, name: str) -> None:
        self.name = name.upper()

    def get_col_spec(self, **kw: Any) -> str:
        return self.name


class Unrecognized(sa.types.UserDefinedType[Any]):
    """A column type SQLAlchemy does not know (PostgreSQL's ``point``, ``xml``, a composite
    type), kept under the database's own name: descriptions and the startup's log line name
    it, where SQLAlchemy's ``NullType`` renders as ``NULL``. Values pass as the driver reads
    and writes them (text), as a ``NullType`` column's do; it has no Jet field, so it is shown
    as a ``CharField``."""

    cache_ok = True

    def __init__(self, name: str) -> None:
        self.name = name

    def get_col_spec(self, **kw: Any) -> str:
        return self.name


class AsStored(sa.TypeDecorator[Any]):
    """A SQLite column of a type whose values SQLAlchemy converts as it reads them (a number, a
    date or time, JSON), read as stored where that conversion fails: SQLite keeps any value in
    any column (an imported ``''`` in a ``NUMERIC`` one, a Unix time in a ``DATETIME`` one), and
    one such row would otherwise make every action on it fail. The type it wraps
    (:func:`base_type`) is the declared one, so the column is described, rendered, written and
    typed as a parameter as one.

    Args:
        declared: the column's declared type.
    """

    impl: TypeEngine[Any] | type[TypeEngine[Any]] = sa.types.NullType  # each column's own
    cache_ok = True

    def __init__(self, declared: TypeEngine[Any]) -> None:
        super().__init__()
        self.declared = declared
        self.impl = declared

    def __repr__(self) -> str:
        return f"AsStored({self.declared!r})"

    def result_processor(self, dialect: sa.Dialect,
                         coltype: Any) -> Callable[[Any], Any] | None:
        convert = super().result_processor(dialect, coltype)
        if convert is None:
            return None

        def as_stored(value: Any) -> Any:
            try:
                return convert(value)
            except (TypeError, ValueError, ArithmeticError):
                return value

        return as_stored


class _TimeAsRead(sa.types.UserDefinedType[dt.timedelta]):
    """``TIME`` as MySQL's drivers read it (a ``timedelta``), with no conversion of SQLAlchemy's:
    what :class:`MySQLTime` reads and writes through."""

    cache_ok = True

    def __init__(self, fsp: int | None = None) -> None:
        self.fsp = fsp

    def get_col_spec(self, **kw: Any) -> str:
        return f"TIME({self.fsp})" if self.fsp else "TIME"  # as the MySQL dialect renders TIME


class MySQLTime(sa.TypeDecorator[dt.timedelta]):
    """A MySQL or MariaDB ``TIME`` column, as reflected: a duration from -838:59:59 to
    838:59:59, read as a :class:`~flexorm.protocol.durations.Duration`.

    SQLAlchemy's MySQL ``TIME`` turns the driver's ``timedelta`` into a time of day, dropping
    days and sign: ``100:00:00`` would read as ``04:00:00`` and ``-01:00:00`` as ``23:00:00``.
    Here the driver's value is kept, and a ``timedelta`` is written as its text
    (``-00:30:00``), the same whatever the driver makes of a negative one. The type it wraps
    (:func:`base_type`) is the dialect's ``TIME``, so the column is described, rendered and
    typed as a parameter as one.
    """

    impl = mysql.TIME
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> TypeEngine[Any]:
        return _TimeAsRead(getattr(self.impl_instance, "fsp", None))

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        return str(Duration.of(value)) if isinstance(value, dt.timedelta) else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        return Duration.of(value) if isinstance(value, dt.timedelta) else value

    @property
    def python_type(self) -> type[Any]:
        return dt.timedelta


_Rule = tuple[type[TypeEngine[Any]] | tuple[type[TypeEngine[Any]], ...], str, str]

FIELD_TYPES: tuple[_Rule, ...] = (
    (sa.Enum, "SelectField", "SelectField"),
    ((sa.Text, sa.UnicodeText, sa.CLOB), "TextField", "TextField"),
    (sa.String, "CharField", "CharField"),
    (sa.Boolean, "BooleanField", "BooleanField"),
    (sa.BigInteger, "IntegerField", "BigIntegerField"),
    (sa.SmallInteger, "IntegerField", "SmallIntegerField"),
    (sa.Integer, "IntegerField", "IntegerField"),
    (sa.Double, "FloatField", "DoublePrecisionField"),
    (sa.Float, "FloatField", "FloatField"),
    (sa.DECIMAL, "FloatField", "DecimalField"),
    (sa.Numeric, "FloatField", "NumberField"),
    (sa.Date, "DateField", "DateField"),
    (sa.TIMESTAMP, "DateTimeField", "TimestampField"),
    (sa.DateTime, "DateTimeField", "DateTimeField"),
    ((sa.JSON, sa.ARRAY), "JSONField", "JSONField"),
    (sa.Uuid, "UUIDField", "UUIDField"),
    ((sa.LargeBinary, sa.BINARY, sa.VARBINARY), "BinaryField", "BinaryField"),
    (Spatial, "CharField", "CharField"),
)
"""``(SQLAlchemy type, field, db_field)`` in match order (protocol section 4)."""

_FALLBACK = ("CharField", "CharField")


def base_type(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    """The type to map: through PostgreSQL domains and ``TypeDecorator`` wrappers."""
    seen = 0
    while seen < 10:  # a decorator of a domain of a decorator... never loops for ever
        seen += 1
        if isinstance(type_, postgresql.DOMAIN):
            type_ = type_.data_type
        elif isinstance(type_, sa.TypeDecorator) and not isinstance(type_, sa.Interval):
            # (Interval is a decorator of DateTime, for databases without an interval type)
            type_ = type_.impl_instance
        else:
            break
    return type_


def python_type_of(type_: TypeEngine[Any]) -> type[Any] | None:
    """The Python type the values of ``type_`` (looked through, :func:`base_type`) read as, or
    ``None`` when SQLAlchemy does not say (a range, an unknown type)."""
    try:
        return base_type(type_).python_type
    except NotImplementedError:
        return None


def kind_by_name(cls: type) -> str | None:
    """``"text"`` or ``"binary"`` for dialect types that do not derive from SQLAlchemy's
    generic ones: MySQL's ``TINYTEXT``/``MEDIUMTEXT``/``LONGTEXT`` are plain ``String`` classes,
    its ``*BLOB`` types and Oracle's ``RAW`` are not ``LargeBinary``. Told by the name the type
    renders as, so no dialect needs importing."""
    name = str(getattr(cls, "__visit_name__", "")).upper()
    if issubclass(cls, sa.String) and name.endswith(("TEXT", "CLOB")):
        return "text"
    if name.endswith("BLOB") or name in ("RAW", "LONG RAW", "BYTEA"):
        return "binary"
    return None


def is_mysql_boolean(type_: TypeEngine[Any]) -> bool:
    """MySQL's ``BOOLEAN``/``BOOL``: stored, and reflected, as ``TINYINT(1)``. Any other
    display width is an integer."""
    return (isinstance(type_, sa.Integer) and type_.__visit_name__ == "TINYINT"
            and getattr(type_, "display_width", None) == 1)


def mysql_name(cls: type) -> str | None:
    """The name of a MySQL type that derives from no generic SQLAlchemy type (``YEAR``,
    ``BIT``), told by its module so no dialect needs importing."""
    if cls.__module__.startswith("sqlalchemy.dialects.mysql."):
        return str(getattr(cls, "__visit_name__", "")).upper()
    return None


_INT_WIDTH = ((sa.SmallInteger, 16), (sa.BigInteger, 64), (sa.Integer, 32))
_INT_WIDTH_BY_NAME = {"TINYINT": 8, "MEDIUMINT": 24}
"""MySQL's integer types that SQLAlchemy's generic ones do not tell apart."""
_YEARS = (1901, 2155)
"""What MySQL's ``YEAR`` holds."""


def integer_bounds(type_: TypeEngine[Any], dialect: str) -> tuple[int, int]:
    """The least and the most value an integer column stores: by its width and sign (SQLite's
    INTEGER always holds 64 bits), MySQL's ``YEAR`` its years and ``BIT(n)`` n bits.

    Examples:
        >>> integer_bounds(sa.SmallInteger(), "postgresql")
        (-32768, 32767)
        >>> integer_bounds(sa.SmallInteger(), "sqlite")
        (-9223372036854775808, 9223372036854775807)
    """
    if dialect == "sqlite":
        return -(2 ** 63), 2 ** 63 - 1
    name = mysql_name(type(type_))
    if name == "YEAR":
        return _YEARS
    if name == "BIT":
        return 0, 2 ** (getattr(type_, "length", None) or 1) - 1
    bits = _INT_WIDTH_BY_NAME.get(str(type_.__visit_name__).upper()) or next(
        (b for kind, b in _INT_WIDTH if isinstance(type_, kind)), 64)
    if getattr(type_, "unsigned", False):
        return 0, 2 ** bits - 1
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def set_values(type_: TypeEngine[Any]) -> tuple[str, ...] | None:
    """The allowed members of a MySQL ``SET(...)`` column (a value holds any of them, comma
    separated); ``None`` for any other type."""
    if mysql_name(type(type_)) != "SET":
        return None
    return tuple(str(value) for value in getattr(type_, "values", ()))


def is_decimal_number(type_: TypeEngine[Any]) -> bool:
    """Oracle's ``NUMBER`` is both ``Integer`` and ``Numeric``: an integer without a scale."""
    return (isinstance(type_, sa.Integer) and isinstance(type_, sa.Numeric)
            and bool(type_.scale and type_.scale > 0))


def _match(type_: TypeEngine[Any]) -> tuple[str, str] | None:
    if is_decimal_number(type_):
        return "FloatField", "NumberField"
    if is_mysql_boolean(type_):
        return "BooleanField", "BooleanField"
    cls: type = type(type_)
    return _match_class(cls)


@functools.cache
def _match_class(cls: type) -> tuple[str, str] | None:
    """The first rule matching a type class (rules test classes only, so it is kept)."""
    kind = kind_by_name(cls)
    if kind == "text":
        return "TextField", "TextField"
    if kind == "binary":
        return "BinaryField", "BinaryField"
    if mysql_name(cls) in ("YEAR", "BIT"):  # a year; BIT(n) reads as an integer
        return "IntegerField", "IntegerField"
    for sql_type, jet_field, db_field in FIELD_TYPES:
        if issubclass(cls, sql_type):
            return jet_field, db_field
    return None


def is_known_type(type_: TypeEngine[Any]) -> bool:
    """Whether the type has an entry in :data:`FIELD_TYPES` (else it degrades to CharField)."""
    return _match(base_type(type_)) is not None


def field_types(column: ColumnInfo) -> tuple[str, str]:
    """``(field, db_field)`` of a column in a model description.

    A foreign key column's ``field`` is ``ForeignKey``; a column restricted to a list of values (an
    enum or a ``CHECK ... IN`` list) is a ``SelectField``. ``db_field`` always keeps the base type.

    Examples:
        >>> import sqlalchemy as sa
        >>> field_types(ColumnInfo("n", sa.BigInteger(), False, False, False))
        ('IntegerField', 'BigIntegerField')
    """
    jet_field, db_field = _match(base_type(column.type)) or _FALLBACK
    if column.foreign_key is not None:
        return "ForeignKey", db_field
    if column.options is not None:
        return "SelectField", db_field
    return jet_field, db_field


@functools.cache
def _dialect(name: str) -> sa.Dialect | None:
    try:
        return sa.dialects.registry.load(name)()  # type: ignore[no-any-return]
    except Exception:  # an unknown or broken dialect: fall back to str()
        return None


def db_internal_type(type_: TypeEngine[Any], dialect: str | None = None) -> str:
    """The column type as SQL text.

    Rendered by the database's own dialect when it is given (``mood`` for a PostgreSQL enum,
    ``TIMESTAMP WITH TIME ZONE``, ``TEXT[]``, a domain's name), else ``str(type)``; the class
    name when neither can render it (``NullType``).
    """
    compiler_dialect = _dialect(dialect) if dialect else None
    if compiler_dialect is not None:
        try:
            return str(type_.compile(dialect=compiler_dialect))
        except Exception:  # noqa: S110 - fall through to str()
            pass
    try:
        return str(type_)
    except Exception:  # some types cannot render without a dialect
        return type(type_).__name__
