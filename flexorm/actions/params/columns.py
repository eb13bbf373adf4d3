"""Parameters typed by a column: ``fields=[...]`` and ``Annotated[T, flex.column(...)]``.

The Jet field, options and related model come from the param field table
(:func:`flexorm.actions.params.fields.param_field`); this module adds what validation needs: the
Python annotation with the column's limits (string length, integer width, numeric precision),
whether the parameter is required and its default. The body receives values ready to assign to the
column: a foreign key parameter gives the id, not the row.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import AfterValidator, Field
from sqlalchemy.dialects import postgresql

from flexorm.actions.params import annotated, kinds
from flexorm.actions.params.fields import param_field
from flexorm.actions.params.ids import IdCoercer, id_coercer
from flexorm.actions.params.signature import MISSING
from flexorm.actions.params.spec import Choice, ParamSpec
from flexorm.exceptions import ConfigurationError
from flexorm.reflection.comments import plain_comment
from flexorm.reflection.records import CollectionInfo, ColumnInfo, SchemaInfo
from flexorm.reflection.typemap import base_type, integer_bounds, mysql_name, set_values

__all__ = ["column_param"]

_TEMPORAL: dict[Any, type[sa.types.TypeEngine[Any]]] = {
    dt.datetime: sa.DateTime, dt.date: sa.Date, dt.time: sa.Time, uuid.UUID: sa.Uuid,
}
_NO_OFFSETS = frozenset({"sqlite", "mysql", "mariadb"})
"""Databases whose date and time columns store no offset, whatever the column type says
(SQLite writes the text without it, MySQL has no such type)."""


def _temporal(python_type: Any, type_: sa.types.TypeEngine[Any], dialect: str) -> Any:
    """A datetime or time for a column that stores no offset is made naive UTC, as the
    convention goes: dropping the offset would store another instant. One for a column that
    keeps it must have a UTC instant Python can read back."""
    if python_type in (dt.datetime, dt.time) and not (
            getattr(type_, "timezone", False) and dialect not in _NO_OFFSETS):
        return Annotated[python_type, kinds.naive_utc]
    if python_type is dt.datetime:
        return Annotated[python_type, kinds.utc_representable]
    return python_type


def _length(type_: sa.types.TypeEngine[Any]) -> list[Any]:
    length = getattr(type_, "length", None)
    return [Field(max_length=length)] if isinstance(length, int) and length > 0 else []


def _item_annotation(item: sa.types.TypeEngine[Any], dialect: str) -> Any:
    kind = base_type(item)
    if isinstance(kind, sa.Enum) and kind.enums:  # an array of a PostgreSQL enum type
        return Literal[tuple(kind.enums)]
    if isinstance(kind, sa.String):
        return annotated.str_annotation(*_length(kind))
    if isinstance(kind, sa.Boolean):
        return bool
    if isinstance(kind, sa.Integer):
        return annotated.int_annotation()
    if isinstance(kind, sa.Float):
        return annotated.float_annotation()
    if isinstance(kind, sa.Numeric):
        return annotated.decimal_annotation()
    if isinstance(kind, sa.LargeBinary | sa.BINARY | sa.VARBINARY):
        return kinds.bytes_annotation(*_length(kind))
    for python_type in (dt.datetime, dt.date, dt.time, uuid.UUID):
        if isinstance(kind, _TEMPORAL[python_type]):
            return _temporal(python_type, kind, dialect)
    return Annotated[Any, AfterValidator(annotated.json_check)]


def _array_annotation(type_: sa.ARRAY[Any], dialect: str) -> Any:
    """A list (or the JSON text of one): a string is never split into its characters nor a
    dict into its keys. Its items are validated as the item type, on as many levels as the
    array has (PostgreSQL does not hold an array column to its declared dimensions, so any
    number, all alike, when the type does not say; one for an array of an enum type, the only
    kind of such an array SQLAlchemy reads back)."""
    dimensions = type_.dimensions
    if dimensions is None and isinstance(base_type(type_.item_type), sa.Enum):
        dimensions = 1
    return kinds.array_annotation(_item_annotation(type_.item_type, dialect), dimensions)


def _annotation(column: ColumnInfo, python_type: Any, dialect: str) -> Any:
    type_ = base_type(column.type)
    if isinstance(type_, sa.ARRAY):
        return _array_annotation(type_, dialect)
    if isinstance(type_, postgresql.INET | postgresql.CIDR):
        return kinds.network_annotation(cidr=isinstance(type_, postgresql.CIDR))
    if isinstance(type_, postgresql.ranges.AbstractRange):
        return kinds.range_annotation(
            multi=isinstance(type_, postgresql.ranges.AbstractMultiRange))
    members = set_values(type_)
    if members is not None:
        return annotated.set_annotation(members)
    if python_type is str:
        return annotated.str_annotation(*_length(type_))
    if python_type is int:
        low, high = integer_bounds(type_, dialect)
        return annotated.int_annotation(low=low, high=high)
    if python_type is float:
        return annotated.float_annotation()
    if python_type is Decimal:
        extra: list[Any] = []
        if isinstance(type_, sa.Numeric) and type_.precision is not None:
            extra.append(Field(max_digits=type_.precision, decimal_places=type_.scale))
        return annotated.decimal_annotation(*extra)
    if python_type is dt.timedelta and mysql_name(type(type_)) == "TIME":
        return kinds.duration_annotation()
    if python_type in (dt.datetime, dt.time):
        return _temporal(python_type, type_, dialect)
    if python_type in (bool, dt.date, dt.timedelta, uuid.UUID):
        return python_type
    if python_type is bytes:
        return kinds.bytes_annotation(*_length(type_))
    # JSON: any JSON value as sent (a string is a JSON value too)
    return Annotated[Any, AfterValidator(annotated.json_check)]


def _fitting(coerce: IdCoercer, column: ColumnInfo) -> IdCoercer:
    """``coerce``, refusing text longer than the column holds (a foreign key's value)."""
    length = getattr(base_type(column.type), "length", None)
    if not isinstance(length, int):
        return coerce

    def fitting(value: Any) -> Any:
        coerced = coerce(value)
        if isinstance(coerced, str) and len(coerced) > length:
            raise ValueError(f"at most {length} characters")
        return coerced

    return fitting


def column_param(
    name: str,
    collection: CollectionInfo,
    column_name: str,
    schema: SchemaInfo,
    *,
    action: str,
    default: Any = MISSING,
    optional: bool = False,
    label: str | None = None,
    description: str | None = None,
    typed: bool = False,
    spread: bool = False,
) -> ParamSpec:
    """The parameter ``name`` typed by ``collection.column_name``.

    Args:
        default: a default declared in the signature.
        optional: the signature says ``X | None``.
        typed: the signature gives the parameter a type; it is then required unless
            ``optional`` or with a ``default``, whatever the column takes (the annotation
            wins). Else the parameter follows the column: optional when it takes ``NULL`` or
            has a default.
        spread: received by ``**values``: an optional parameter that is not sent is left
            out, so that the body assigns only what was sent.

    The column's own default is never the parameter's: the body would write it over the
    record's value (and Jet Admin would fill the form with it).

    Raises:
        ConfigurationError: no such column, or a generated column (never written).
    """
    column = collection.columns.get(column_name)
    if column is None:
        known = ", ".join(collection.columns)
        raise ConfigurationError(
            f"action {action!r}: parameter {name!r}: collection {collection.name!r} has no "
            f"column {column_name!r} (it has {known})"
        )
    if column.computed:
        raise ConfigurationError(
            f"action {action!r}: parameter {name!r}: column {collection.name}.{column_name} is "
            "generated by the database and cannot be set"
        )
    mapped = param_field(column)
    extra_params = {k: v for k, v in mapped.params.items() if k not in ("options", "related_model")}
    choices: tuple[Choice, ...] = ()
    related = schema.collections.get(mapped.related_model) if mapped.related_model else None
    related_field: str | None = None
    field = mapped.field
    if related is not None and column.foreign_key is not None:
        related_field = column.foreign_key.target_columns[0]
        annotation = annotated.coercer_annotation(_fitting(id_coercer(column, schema.dialect),
                                                                  column))
    elif mapped.options is not None:
        choices = tuple(Choice(value, str(value)) for value in mapped.options)
        annotation = annotated.choice_annotation(choices)
        field = "SelectField"
    else:
        # a foreign key to a collection that is not served is a plain value
        annotation = _annotation(column, mapped.python_type, schema.dialect)
        if field == "ForeignKey":
            field = "IntegerField" if mapped.python_type is int else "CharField"
    if typed:
        required = not optional and default is MISSING
    else:
        has_db_default = (column.server_default is not None or column.autoincrement
                          or column.has_default)
        required = not (column.nullable or has_db_default or default is not MISSING)
    if not required and default is MISSING and not spread:
        default = None
    return ParamSpec(
        name=name, field=field, required=required, annotation=annotation, default=default,
        label=label, description=description or plain_comment(column.comment), choices=choices,
        related=related, related_field=related_field, extra_params=extra_params,
    )
