"""Typed records of a reflected database: what every other part of flexorm reads.

They hold what the database said, lightly normalised, and nothing about Jet Admin: the Jet field
types are derived from them in :mod:`flexorm.reflection.typemap`. Records are immutable; a schema
is reflected once and shared by every request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.types import TypeEngine

from flexorm.exceptions import UnknownCollectionError

__all__ = [
    "CollectionInfo",
    "ColumnInfo",
    "ForeignKeyInfo",
    "RelationInfo",
    "SchemaInfo",
]


def _positional_reduce(cls: type[Any]) -> type[Any]:
    """Pickle a frozen record as ``cls(*fields)``: several times faster to load than the
    dataclass default (which looks up the fields for every object), which matters for the
    reflection cache's thousands of columns. Fields starting with ``_`` are caches, left out."""
    names = tuple(f.name for f in fields(cls) if not f.name.startswith("_"))

    def __reduce__(self: Any) -> tuple[Any, tuple[Any, ...]]:  # noqa: N807
        return cls, tuple(getattr(self, name) for name in names)

    cls.__reduce__ = __reduce__  # type: ignore[assignment]
    return cls


@_positional_reduce
@dataclass(frozen=True, slots=True)
class ForeignKeyInfo:
    """A foreign key constraint of a collection."""

    name: str | None
    """The constraint's name, when the database has one."""
    columns: tuple[str, ...]
    """The referencing columns of this collection, in constraint order."""
    target: str
    """The collection name of the referenced table."""
    target_columns: tuple[str, ...]
    """The referenced columns, in constraint order."""
    target_is_primary_key: bool
    """Whether the referenced columns are the target's primary key."""


@_positional_reduce
@dataclass(frozen=True, slots=True)
class ColumnInfo:
    """A column of a reflected table or view."""

    name: str
    """The column's name in the database (also its field name)."""
    type: TypeEngine[Any]
    """The SQLAlchemy type, as reflected (or as declared by a user model)."""
    nullable: bool
    primary_key: bool
    """Part of the declared primary key (not the first-column fallback)."""
    autoincrement: bool
    """The database fills it in: serial, identity, SQLite's integer primary key."""
    server_default: str | None = None
    """The server default's SQL text, as the database reports it."""
    computed: bool = False
    """A generated column; never written."""
    comment: str | None = None
    options: tuple[Any, ...] | None = None
    """The allowed values: enum labels or a ``CHECK (col IN (...))`` list, in declared order."""
    foreign_key: ForeignKeyInfo | None = None
    """The single-column foreign key on this column, if any (the first when there are several)."""
    has_default: bool = False
    """A client-side default declared by a user model (``Column(default=...)``)."""


@_positional_reduce
@dataclass(frozen=True, slots=True)
class RelationInfo:
    """A relation between two collections through one foreign key column."""

    name: str
    """``"<local_field>__to__<related table>__<related_field>"`` (many-to-one) or
    ``"<related table>__<related_field>__to__<local_field>"`` (one-to-many), as the reference
    bridge names them."""
    direction: Literal["MANYTOONE", "ONETOMANY"]
    local_field: str
    related_model: str
    related_field: str


@_positional_reduce
@dataclass(frozen=True, slots=True)
class CollectionInfo:
    """A reflected table or view, known to Jet Admin as a collection."""

    name: str
    """The collection name: the table name, or ``"<schema>.<table>"`` outside the default schema
    (or whatever the rename hook returned)."""
    table: str
    schema: str | None
    """``None`` for the default schema."""
    is_view: bool
    columns: Mapping[str, ColumnInfo]
    """Columns by name, in table order."""
    primary_key: tuple[str, ...]
    """The declared primary key; for a table without one, its first column."""
    primary_key_auto: bool
    """The key is filled in by the database, or is the first-column fallback."""
    has_primary_key: bool
    """Whether the database declares a primary key (false for the fallback)."""
    foreign_keys: tuple[ForeignKeyInfo, ...] = ()
    relations: tuple[RelationInfo, ...] = ()
    comment: str | None = None
    triggers: bool = False
    """The database runs row triggers when rows of this table are inserted or updated: they may
    change the rows written (a ``last_update`` set to ``now()``, a search column kept up to
    date), so a row an action changed is read back before it is shown. Known on SQLite,
    PostgreSQL, MySQL and MariaDB (where a column ``ON UPDATE CURRENT_TIMESTAMP`` counts as
    one); ``False`` on other databases."""
    _table_cache: list[sa.Table] = field(default_factory=list, compare=False, repr=False)

    @property
    def primary_key_field(self) -> str:
        """The field Jet Admin uses as the record id (the first key column)."""
        return self.primary_key[0]

    @property
    def sa_table(self) -> sa.Table:
        """A SQLAlchemy :class:`~sqlalchemy.Table` for queries, built on first use and kept.

        Its primary key is :attr:`primary_key` (the fallback included), so ``select`` and
        ``update`` by key work on tables without a declared one. A generated column is marked
        as computed by the database on insert and update: a flush leaves it out and expires
        it, so a row read after a change shows its new value.
        """
        if not self._table_cache:
            columns = [
                sa.Column(c.name, c.type, primary_key=c.name in self.primary_key,
                          nullable=c.nullable, key=c.name, **_generated(c))
                for c in self.columns.values()
            ]
            self._table_cache.append(sa.Table(self.table, sa.MetaData(), *columns,
                                              schema=self.schema))
        return self._table_cache[0]


def _generated(column: ColumnInfo) -> dict[str, Any]:
    if not column.computed:
        return {}
    return {"server_default": sa.FetchedValue(), "server_onupdate": sa.FetchedValue()}


@_positional_reduce
@dataclass(frozen=True, slots=True)
class SchemaInfo:
    """Every reflected collection of one database."""

    dialect: str
    """SQLAlchemy's dialect name: ``sqlite``, ``postgresql``..."""
    default_schema: str | None
    collections: Mapping[str, CollectionInfo]
    """Collections by name, sorted by name."""

    def __getitem__(self, name: str) -> CollectionInfo:
        try:
            return self.collections[name]
        except KeyError:
            raise UnknownCollectionError(name, list(self.collections)) from None

    def __contains__(self, name: object) -> bool:
        return name in self.collections

    def __iter__(self) -> Iterator[CollectionInfo]:
        return iter(self.collections.values())

    def __len__(self) -> int:
        return len(self.collections)
