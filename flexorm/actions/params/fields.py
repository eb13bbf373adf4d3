"""The one Jet field table of action parameters: which param field (protocol section 3) a
parameter gets, from its column's type or from its Python annotation, and the Python type its
values are validated with.

One table serves both directions. A column matches the first row whose SQLAlchemy types it is
an instance of (so subclasses come first: ``Text`` before ``String``, ``TIMESTAMP`` before
``DateTime``, ``Float`` before ``Numeric``); an annotation matches the row of its Python type
marked ``annotation`` (``str`` is a one-line ``CharField``, ``datetime`` a ``DateTimeField``).
Model descriptions have their own field types (:mod:`flexorm.reflection.typemap`): a UUID
column is described as a ``UUIDField``, while the UI's param fields have none, so a UUID
parameter is a ``CharField``; so is a binary one (the UI has no ``BinaryField`` either), its
bytes sent as base64 text, and MySQL's ``TIME``, a duration beyond a day's hours.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeEngine

from flexorm.reflection.records import ColumnInfo
from flexorm.reflection.typemap import (
    base_type,
    is_decimal_number,
    is_mysql_boolean,
    kind_by_name,
    mysql_name,
    set_values,
)

__all__ = [
    "PARAM_FIELDS",
    "FieldRow",
    "ParamField",
    "annotation_field",
    "param_field",
    "scalar_types",
]


@dataclass(frozen=True, slots=True)
class FieldRow:
    """One row of :data:`PARAM_FIELDS`."""

    sql_types: type[TypeEngine[Any]] | tuple[type[TypeEngine[Any]], ...]
    python_type: Any
    field: str
    annotation: bool = False
    """This row is what an annotation of ``python_type`` becomes."""


PARAM_FIELDS: tuple[FieldRow, ...] = (
    FieldRow((sa.Text, sa.UnicodeText, sa.CLOB), str, "TextField"),
    FieldRow(sa.String, str, "CharField", annotation=True),
    FieldRow(sa.Boolean, bool, "BooleanField", annotation=True),
    FieldRow(sa.Integer, int, "IntegerField", annotation=True),
    FieldRow(sa.Float, float, "FloatField", annotation=True),
    FieldRow(sa.Numeric, Decimal, "DecimalField", annotation=True),
    FieldRow(sa.Date, dt.date, "DateField", annotation=True),
    FieldRow(sa.TIMESTAMP, dt.datetime, "TimestampField"),
    FieldRow(sa.DateTime, dt.datetime, "DateTimeField", annotation=True),
    FieldRow(sa.Time, dt.time, "TimeField", annotation=True),
    FieldRow(sa.Interval, dt.timedelta, "CharField"),
    FieldRow((sa.JSON, sa.ARRAY), Any, "JSONField"),
    FieldRow(sa.Uuid, uuid.UUID, "CharField", annotation=True),
    FieldRow((sa.LargeBinary, sa.BINARY, sa.VARBINARY), bytes, "CharField", annotation=True),
)
"""Column types, Python types and param fields, in match order."""

_BY_ANNOTATION: dict[Any, str] = {row.python_type: row.field for row in PARAM_FIELDS
                                  if row.annotation}


def annotation_field(python_type: Any) -> str:
    """The param field of a scalar annotation.

    Raises:
        KeyError: a type with no row (the signature parser accepts only those that have one).

    Examples:
        >>> annotation_field(str), annotation_field(uuid.UUID), annotation_field(bytes)
        ('CharField', 'CharField', 'CharField')
    """
    return _BY_ANNOTATION[python_type]


def scalar_types() -> tuple[Any, ...]:
    """The Python types an annotation may use as a plain scalar."""
    return tuple(_BY_ANNOTATION)


@dataclass(frozen=True, slots=True)
class ParamField:
    """How an action parameter of a column's type is described to Jet Admin and validated."""

    field: str
    """The Jet param field: ``CharField``, ``IntegerField``, ``SelectField``, ``ForeignKey``..."""
    params: dict[str, Any] = dataclass_field(default_factory=dict)
    """The descriptor's ``params``: ``options``, ``related_model``, ``precision``/``scale``."""
    python_type: Any = str
    """The Python type values are validated with (``Any`` for JSON)."""
    options: tuple[Any, ...] | None = None
    """The allowed values, for a ``SelectField``."""
    related_model: str | None = None
    """The referenced collection, for a ``ForeignKey``."""


def _options_param(values: tuple[Any, ...]) -> list[dict[str, Any]]:
    return [{"value": value, "name": str(value)} for value in values]


def _column_type(type_: TypeEngine[Any]) -> tuple[str, Any]:
    if is_decimal_number(type_):
        return "DecimalField", Decimal
    if is_mysql_boolean(type_):
        return "BooleanField", bool
    if mysql_name(type(type_)) in ("YEAR", "BIT"):
        return "IntegerField", int
    if mysql_name(type(type_)) == "TIME":  # -838:59:59 to 838:59:59
        return "CharField", dt.timedelta
    kind = kind_by_name(type(type_))
    if kind == "text":
        return "TextField", str
    if kind == "binary":
        return "CharField", bytes
    for row in PARAM_FIELDS:
        if isinstance(type_, row.sql_types):
            return row.field, row.python_type
    return "CharField", str


def param_field(column: ColumnInfo) -> ParamField:
    """The field of an action parameter typed by a column.

    Foreign keys win, then value lists, then the type table; an unknown type is a ``CharField``
    validated as ``str``.

    Examples:
        >>> import sqlalchemy as sa
        >>> param_field(ColumnInfo("price", sa.Numeric(10, 2), False, False, False)).params
        {'precision': 10, 'scale': 2}
    """
    type_ = base_type(column.type)
    jet_field, python_type = _column_type(type_)
    fk = column.foreign_key
    if fk is not None:
        return ParamField("ForeignKey", {"related_model": {"model": fk.target}}, python_type,
                          column.options, fk.target)
    options = column.options
    if options is None and isinstance(type_, sa.Enum):
        options = tuple(type_.enums)
    if options is not None:
        return ParamField("SelectField", {"options": _options_param(options)}, python_type,
                          options)
    params: dict[str, Any] = {}
    members = set_values(type_)
    if members is not None:
        params["set_values"] = list(members)
    if jet_field == "DecimalField" and isinstance(type_, sa.Numeric):
        if type_.precision is not None:
            params["precision"] = type_.precision
        if type_.scale is not None:
            params["scale"] = type_.scale
    return ParamField(jet_field, params, python_type)
