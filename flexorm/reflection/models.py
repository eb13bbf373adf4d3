"""User declarative models refine what reflection found."""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from flexorm.reflection.records import CollectionInfo, ColumnInfo, SchemaInfo
from flexorm.reflection.typemap import base_type

__all__ = ["merge_models"]

logger = logging.getLogger("flexorm.reflection")


def enum_options(type_: sa.types.TypeEngine[Any]) -> tuple[Any, ...] | None:
    """The values of an ``Enum`` type: a Python enum's values, else its labels."""
    type_ = base_type(type_)
    if not isinstance(type_, sa.Enum):
        return None
    enum_class = type_.enum_class
    if enum_class is not None and issubclass(enum_class, enum.Enum):
        return tuple(member.value for member in enum_class)
    return tuple(type_.enums) or None


def _merge_column(column: ColumnInfo, model_column: sa.Column[Any]) -> ColumnInfo:
    options = enum_options(model_column.type)
    return replace(
        column,
        type=model_column.type,
        options=options if options is not None else column.options,
        has_default=column.has_default or model_column.default is not None,
    )


def _merge_collection(collection: CollectionInfo, table: sa.Table) -> CollectionInfo:
    columns = dict(collection.columns)
    for model_column in table.columns:
        if model_column.name in columns:
            columns[model_column.name] = _merge_column(columns[model_column.name], model_column)
    changes: dict[str, Any] = {"columns": columns, "_table_cache": []}
    model_key = tuple(c.name for c in table.primary_key.columns)
    if not collection.has_primary_key and model_key and all(k in columns for k in model_key):
        # a view or a keyless table whose model declares the key: trust the model
        for name in model_key:
            columns[name] = replace(columns[name], primary_key=True)
        changes.update(primary_key=model_key, has_primary_key=True, primary_key_auto=(
            len(model_key) == 1 and columns[model_key[0]].autoincrement))
    return replace(collection, **changes)


def merge_models(schema: SchemaInfo, tables: Sequence[sa.Table]) -> SchemaInfo:
    """The schema with column types (and keys of views) taken from user models.

    A model's table is matched by name and schema (``None`` or the default schema name both mean
    the default schema). Each model column that the table has replaces the reflected type, so an
    ``Enum`` column's values become the field's options; a model-side ``default`` makes the field
    optional. A view or table without a declared primary key takes the model's. Models of tables
    that were not reflected are ignored (a debug log line says so).

    Examples:
        >>> schema = merge_models(schema, [User.__table__])  # doctest: +SKIP
    """
    by_table = {(c.schema, c.table): c for c in schema}
    collections = dict(schema.collections)
    for table in tables:
        table_schema = None if table.schema == schema.default_schema else table.schema
        collection = by_table.get((table_schema, table.name))
        if collection is None:
            logger.debug("model table %s was not reflected; ignored", table.fullname)
            continue
        collections[collection.name] = _merge_collection(collection, table)
    return replace(schema, collections=collections)
