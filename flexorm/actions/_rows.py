"""Rows: mapped classes per collection and loading them by id, in chunks.

A collection served through a user's declarative model loads instances of that model. Any other
collection gets a class mapped imperatively on its table the first time an action needs it: one
attribute per column (``getattr(row, "unit price")`` for names that are not identifiers), a
readable ``repr`` and ``to_dict()``.

Every loader here takes a blocking :class:`~sqlalchemy.orm.Session`; async bodies reuse them
through ``AsyncSession.run_sync``, so the loading logic exists once.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapper, Session, registry

from flexorm.actions._encode import row_to_dict
from flexorm.reflection.records import CollectionInfo, SchemaInfo

__all__ = ["Row", "RowClass", "RowClasses", "load_by_ids", "load_inverse_chunk"]


class Row:
    """Base of the classes flexorm maps on reflected tables."""

    __flexorm_collection__: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The row's column values by column name."""
        return row_to_dict(self)

    def __repr__(self) -> str:
        mapper: Mapper[Any] = sa.inspect(type(self))
        keys = ", ".join(f"{c.name}={getattr(self, mapper.get_property_by_column(c).key)!r}"
                         for c in mapper.primary_key)
        return f"<{self.__flexorm_collection__} {keys}>"


@dataclass(frozen=True, slots=True)
class RowClass:
    """A collection's mapped class and the columns to select it by."""

    collection: CollectionInfo
    cls: type[Any]
    id_column: sa.ColumnElement[Any]
    """The column Jet Admin's ids refer to (the collection's first key column)."""
    id_key: str
    """The attribute holding it."""
    order: tuple[sa.ColumnElement[Any], ...]
    """The full key, for keyset pagination."""
    order_keys: tuple[str, ...]
    unique_order: bool
    """Whether ``order`` identifies a row (a declared key), so keyset pagination is safe."""


def _class_name(name: str) -> str:
    words = re.split(r"[^0-9A-Za-z]+", name)
    joined = "".join(w[:1].upper() + w[1:] for w in words if w) or "Row"
    return ("Row" + joined) if joined[0].isdigit() else joined


def _table_of(cls: type[Any]) -> sa.Table | None:
    table = getattr(cls, "__table__", None)
    return table if isinstance(table, sa.Table) else None


def find_collection(schema: SchemaInfo, table: sa.Table) -> CollectionInfo | None:
    """The collection of a model's table (``None`` and the default schema are the same)."""
    wanted = None if table.schema == schema.default_schema else table.schema
    for collection in schema:
        if collection.table == table.name and collection.schema == wanted:
            return collection
    return None


class RowClasses:
    """Mapped classes by collection, built on first use and kept by the service."""

    def __init__(self, schema: SchemaInfo, models: Iterable[type[Any]]) -> None:
        self._schema = schema
        self._registry = registry()
        self._classes: dict[str, RowClass] = {}
        self._lock = threading.Lock()
        self._user: dict[str, type[Any]] = {}
        for model in models:
            table = _table_of(model)
            collection = find_collection(schema, table) if table is not None else None
            if collection is not None and sa.inspect(model, raiseerr=False) is not None:
                self._user.setdefault(collection.name, model)

    def get(self, collection: CollectionInfo) -> RowClass:
        """The row class of ``collection`` (thread-safe; sync bodies run in worker threads)."""
        found = self._classes.get(collection.name)
        if found is not None:
            return found
        with self._lock:
            found = self._classes.get(collection.name)
            if found is None:
                found = self._build(collection)
                self._classes[collection.name] = found
        return found

    def _build(self, collection: CollectionInfo) -> RowClass:
        cls = self._user.get(collection.name)
        if cls is None:
            cls = type(_class_name(collection.name), (Row,),
                       {"__flexorm_collection__": collection.name})
            self._registry.map_imperatively(cls, collection.sa_table)
        mapper: Mapper[Any] = sa.inspect(cls)
        columns = {c.name: c for c in mapper.local_table.columns}
        id_column = columns[collection.primary_key_field]
        order = tuple(columns[name] for name in collection.primary_key)
        return RowClass(
            collection=collection, cls=cls, id_column=id_column,
            id_key=mapper.get_property_by_column(id_column).key,
            order=order, order_keys=tuple(mapper.get_property_by_column(c).key for c in order),
            unique_order=collection.has_primary_key,
        )


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def load_by_ids(
    session: Session, rows: RowClass, ids: Sequence[Any], chunk_size: int
) -> tuple[list[Any], list[Any]]:
    """The rows with these ids, in the ids' order, and the ids that match no row.

    One ``SELECT ... WHERE id IN (...)`` per chunk of ``chunk_size`` ids. When the id column is
    not unique (the first column of a composite key), every matching row is returned.
    """
    found: dict[Any, list[Any]] = {}
    for chunk in _chunks(ids, chunk_size):
        statement = sa.select(rows.cls).where(rows.id_column.in_(chunk))
        for row in session.scalars(statement):
            found.setdefault(getattr(row, rows.id_key), []).append(row)
    loaded: list[Any] = []
    missing: list[Any] = []
    for value in ids:
        matches = found.get(value)
        if matches is None:
            missing.append(value)
        else:
            loaded.extend(matches)
    return loaded, missing


Cursor = tuple[Any, ...] | int | None
"""Where the next inverse chunk starts: the last key seen, or an offset."""


def load_inverse_chunk(
    session: Session, rows: RowClass, exclude: frozenset[Any], after: Cursor, chunk_size: int
) -> tuple[list[Any], Cursor]:
    """One chunk of the rows whose id is not in ``exclude``, and the cursor of the next chunk
    (``None`` after the last).

    Pages by key (``WHERE key > last ORDER BY key LIMIT n``), so each chunk is one cheap query;
    a table without a declared key pages by offset.
    """
    statement = sa.select(rows.cls).order_by(*rows.order).limit(chunk_size)
    if rows.unique_order:
        if isinstance(after, tuple) and after:
            key = rows.order[0] if len(rows.order) == 1 else sa.tuple_(*rows.order)
            statement = statement.where(key > (after[0] if len(rows.order) == 1 else after))
    elif isinstance(after, int):
        statement = statement.offset(after)
    page = list(session.scalars(statement))
    if len(page) < chunk_size:
        cursor: Cursor = None
    elif rows.unique_order:
        cursor = tuple(getattr(page[-1], key) for key in rows.order_keys)
    else:
        cursor = (after if isinstance(after, int) else 0) + len(page)
    return [row for row in page if getattr(row, rows.id_key) not in exclude], cursor
