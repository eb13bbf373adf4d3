"""What a catalog reader hands to reflection, and the interface every dialect's reader has.

A reader answers two questions about one schema, each in one or a few queries over the
database's catalog whatever the number of tables: which tables and views exist
(:meth:`CatalogReader.list_relations`), and the columns, primary keys, foreign keys, check
constraints, comments and row triggers of the selected ones (:meth:`CatalogReader.read`). Its
answers are :class:`TableFacts` holding one small tuple per column: the facts SQLAlchemy's
inspector would give, without the inspector's dictionaries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, runtime_checkable

from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeEngine

__all__ = [
    "CatalogReader",
    "ColumnFacts",
    "ForeignKeyFacts",
    "Relations",
    "SchemaPart",
    "SchemasReader",
    "TableFacts",
    "Tick",
    "Ticker",
]

Relations = dict[str, tuple[bool, str | None]]
"""Relation name -> (is a view, table comment when the listing has it)."""

Tick = Callable[[int], None]
"""Called with the number of tables whose columns were just read."""


class Ticker:
    """Progress while a reader walks a catalog table by table: ``tick`` hears of every hundred
    tables done, and of the rest at :meth:`finish` (nothing without a ``tick``)."""

    EVERY = 100

    def __init__(self, tick: Tick | None, total: int) -> None:
        self._tick = tick
        self._total = total
        self._done = self._told = 0

    def table_done(self) -> None:
        self._done += 1
        if self._tick is not None and self._done - self._told >= self.EVERY:
            self._tick(self._done - self._told)
            self._told = self._done

    def finish(self) -> None:
        if self._tick is not None:
            self._tick(self._total - self._told)


class ColumnFacts(NamedTuple):
    """One column, as the database reports it."""

    name: str
    type: TypeEngine[Any]
    nullable: bool
    default: str | None
    autoincrement: bool
    """Filled in by the database: a serial or identity column, SQLite's integer primary key."""
    computed: bool
    comment: str | None


class ForeignKeyFacts(NamedTuple):
    """One foreign key constraint."""

    name: str | None
    columns: tuple[str, ...]
    referred_schema: str | None
    referred_table: str
    referred_columns: tuple[str, ...]


@dataclass(slots=True)
class TableFacts:
    """One selected table or view, filled in by a reader."""

    schema: str | None
    table: str
    name: str
    """The collection name."""
    is_view: bool
    comment: str | None = None
    columns: list[ColumnFacts] = field(default_factory=list)
    primary_key: tuple[str, ...] = ()
    foreign_keys: list[ForeignKeyFacts] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    """The SQL text of each ``CHECK`` constraint that may be a value list, in the inspector's
    order."""
    triggers: bool = False
    """The database runs row triggers when rows are inserted or updated, which may change the
    rows written (see :attr:`~flexorm.reflection.records.CollectionInfo.triggers`)."""


class CatalogReader(Protocol):
    """Reads one dialect's catalog."""

    def list_relations(self, connection: Connection, schema: str | None) -> Relations:
        """The tables, views and materialized views of a schema (``None``: the default one)."""

    def read(self, connection: Connection, schema: str | None, tables: Sequence[TableFacts],
             everything: bool, tick: Tick | None) -> None:
        """Fill in ``tables`` (all of one schema). ``everything``: most of the schema is
        selected, so reading all of it and dropping the rest is cheaper than naming them.
        ``tick``, when given, is called as tables are read."""


SchemaPart = tuple[str | None, Sequence[TableFacts], bool]
"""One schema to read: its name (``None``: the default one), its selected tables, and whether to
read it whole (see :meth:`CatalogReader.read`)."""


@runtime_checkable
class SchemasReader(CatalogReader, Protocol):
    """A reader that reads several schemas in one query per kind of fact.

    A catalog query filtered on one schema still walks the catalog of every schema, so with a
    schema per tenant, one query per schema and kind would cost the number of schemas times the
    size of the whole catalog.
    """

    def list_relations_of(self, connection: Connection,
                          schemas: Sequence[str | None]) -> list[Relations]:
        """:meth:`CatalogReader.list_relations` of each schema, in order."""

    def read_schemas(self, connection: Connection, parts: Sequence[SchemaPart],
                     tick: Tick | None) -> None:
        """:meth:`CatalogReader.read` of each part, at once."""
