"""The ``/api/model_descriptions/`` array: collections and fields as Jet Admin reads them."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeEngine

from flexorm.reflection.comments import COLLECTION_KEYS, FIELD_KEYS, data_source
from flexorm.reflection.defaults import describe_default
from flexorm.reflection.naming import is_own_table
from flexorm.reflection.records import CollectionInfo, ColumnInfo, RelationInfo, SchemaInfo
from flexorm.reflection.typemap import base_type, db_internal_type, field_types, set_values

__all__ = [
    "encoded_model_descriptions",
    "field_description",
    "iter_model_descriptions",
    "model_description",
    "model_descriptions",
]

_TypeMemo = dict[int, tuple[TypeEngine[Any], str]]
"""``id(type)`` -> (the type, kept alive; its ``db_internal_type``): reflected columns share
their types, and rendering one by the dialect's compiler costs more than the rest of a field."""


def _internal_type(type_: TypeEngine[Any], dialect: str | None, memo: _TypeMemo | None) -> str:
    if memo is None:
        return db_internal_type(type_, dialect)
    found = memo.get(id(type_))
    if found is None:
        found = memo[id(type_)] = (type_, db_internal_type(type_, dialect))
    return found[1]


def _params(column: ColumnInfo, dialect: str | None, memo: _TypeMemo | None) -> dict[str, Any]:
    type_ = base_type(column.type)
    params: dict[str, Any] = {"db_internal_type": _internal_type(column.type, dialect, memo)}
    if isinstance(type_, sa.String):
        params["length"] = type_.length
    if column.options is not None:
        params["options"] = [{"name": str(value), "value": value} for value in column.options]
    members = set_values(type_)
    if members is not None:
        params["set_values"] = list(members)
    fk = column.foreign_key
    if fk is not None:
        params["related_model"] = {"model": fk.target}
        if not fk.target_is_primary_key:
            params["custom_primary_key"] = fk.target_columns[0]
    if isinstance(type_, sa.Date):
        params.update(date=True, time=False)
    elif isinstance(type_, sa.DateTime):
        params.update(date=True, time=True)
    return params


def field_description(column: ColumnInfo, dialect: str | None = None,
                      _memo: _TypeMemo | None = None) -> dict[str, Any]:
    """One entry of a model description's ``fields`` (``dialect`` renders ``db_internal_type``)."""
    field, db_field = field_types(column)
    optional = (column.autoincrement or column.has_default or column.server_default is not None
                or column.nullable)
    description: dict[str, Any] = {
        "name": column.name,
        "db_column": column.name,
        "field": field,
        "db_field": db_field,
        "filterable": True,
        "null": column.nullable,
        "editable": not column.computed,
        "required": not optional,
        "params": _params(column, dialect, _memo),
        **data_source(column.comment, FIELD_KEYS),
    }
    default = describe_default(column.server_default, autoincrement=column.autoincrement,
                               type_=base_type(column.type))
    if default is not None:
        description["default_type"] = default.type
        if default.type == "value" or default.value is not None:
            description["default_value"] = default.value
    return description


def _relation(relation: RelationInfo) -> dict[str, Any]:
    return {
        "name": relation.name,
        "direction": relation.direction,
        "local_field": relation.local_field,
        "related_model": relation.related_model,
        "related_field": relation.related_field,
    }


def model_description(collection: CollectionInfo, dialect: str | None = None,
                      _memo: _TypeMemo | None = None) -> dict[str, Any]:
    """The description of one collection.

    ``primary_key_auto`` is true for a table without a declared key (its first column stands in,
    and is ``required``), as the reference bridge answers; a serial key is shown by its field's
    ``default_type``. flexorm's own journal (``flexorm_*``) is read-only: none of its fields is
    editable. The ``data_source_*`` keys come from Jet Admin's JSON in the table's comment.
    """
    fields = [field_description(column, dialect, _memo)
              for column in collection.columns.values()]
    if not collection.has_primary_key:
        key = collection.primary_key_field
        for field in fields:
            if field["name"] == key:
                field["required"] = True
    if is_own_table(collection.table):
        for field in fields:
            field["editable"] = False
    return {
        "model": collection.name,
        "db_table": collection.name,
        "hidden": False,
        "primary_key_field": collection.primary_key_field,
        "primary_key_auto": not collection.has_primary_key,
        "is_view": collection.is_view,
        "fields": fields,
        "relations": [_relation(relation) for relation in collection.relations],
        "relation_overrides": [],
        **data_source(collection.comment, COLLECTION_KEYS),
    }


def iter_model_descriptions(schema: SchemaInfo) -> Iterator[dict[str, Any]]:
    """The ``/api/model_descriptions/`` array one description at a time, sorted by ``model``:
    to encode a large schema's answer piece by piece, never holding all of it as objects."""
    memo: _TypeMemo = {}
    for collection in sorted(schema, key=lambda c: c.name):
        yield model_description(collection, schema.dialect, memo)


def encoded_model_descriptions(schema: SchemaInfo, encode: Callable[[Any], bytes]) -> bytes:
    """The ``/api/model_descriptions/`` array as JSON bytes, each description encoded by
    ``encode`` as soon as it is built: neither the array's objects nor a list of its encoded
    pieces are ever held whole, only the growing answer (at 10,000 tables, tens of MiB)."""
    buffer = io.BytesIO()
    buffer.write(b"[")
    for index, description in enumerate(iter_model_descriptions(schema)):
        if index:
            buffer.write(b",")
        buffer.write(encode(description))
    buffer.write(b"]")
    return buffer.getvalue()


def model_descriptions(schema: SchemaInfo) -> list[dict[str, Any]]:
    """Exactly the ``/api/model_descriptions/`` array, sorted by ``model``.

    Examples:
        >>> json.dumps(model_descriptions(schema))  # doctest: +SKIP
    """
    return list(iter_model_descriptions(schema))
