"""Per-dialect catalog readers behind one interface (:class:`~.base.CatalogReader`).

SQLite, PostgreSQL and MySQL/MariaDB have readers of their own, which read each kind of fact for
every table of a schema in one or a few catalog queries; any other database is read by
SQLAlchemy's batched inspector (:class:`~.generic.InspectorReader`).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from flexorm.reflection.dialects.base import CatalogReader, ColumnFacts, ForeignKeyFacts, TableFacts
from flexorm.reflection.dialects.generic import InspectorReader

__all__ = ["CatalogReader", "ColumnFacts", "ForeignKeyFacts", "TableFacts", "reader_for"]


def _sqlite() -> CatalogReader:
    from flexorm.reflection.dialects.sqlite import SQLiteReader

    return SQLiteReader()


def _postgresql() -> CatalogReader:
    from flexorm.reflection.dialects.postgresql import PostgreSQLReader

    return PostgreSQLReader()


def _mysql() -> CatalogReader:
    from flexorm.reflection.dialects.mysql import MySQLReader

    return MySQLReader()


_READERS: dict[str, Callable[[], CatalogReader]] = {
    "sqlite": _sqlite,
    "postgresql": _postgresql,
    "mysql": _mysql,
    "mariadb": _mysql,
}


def reader_for(dialect: sa.Dialect) -> CatalogReader:
    """The catalog reader of a dialect: its own, else SQLAlchemy's batched inspector."""
    make = _READERS.get(dialect.name)
    return make() if make is not None else InspectorReader()
