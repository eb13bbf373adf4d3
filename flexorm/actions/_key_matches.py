"""Which rows an id names, as the database compares them.

An id is compared with the key column in SQL, bound as a value of that column's type (so
PostgreSQL compares a ``boolean`` key with a boolean, an ``interval`` with an interval, not with
``varchar``). The database's own equality decides which rows it names: a case-insensitive
collation (MySQL's and MariaDB's defaults, PostgreSQL's ``citext``, SQLite's ``COLLATE
NOCASE``) matches ``'abc'`` with the row ``'ABC'``, a ``PAD SPACE`` one ``'ABC '`` with it, an
``inet`` key the text ``'10.0.0.1'`` with the address read back.

Python tells which id names which loaded row by comparing values, which is quick and right for
nearly every key; :func:`database_matches` asks the database for the ids where Python cannot
tell.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

__all__ = ["Key", "database_matches", "equals", "in_", "key_condition"]

Key = tuple[Any, ...]
"""A row's values of its collection's key columns, in key order, as read from the database."""

_TERMS = 200
"""Ids asked about in one statement (SQLite takes at most 500 ``UNION ALL`` terms)."""


def equals(column: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[bool]:
    """``column = value``, ``value`` bound as the column's type."""
    return column == sa.literal(value, column.type)


def in_(column: sa.ColumnElement[Any], values: Iterable[Any]) -> sa.ColumnElement[bool]:
    """``column IN (values)``, each bound as the column's type."""
    return column.in_(sa.bindparam(None, list(values), type_=column.type, expanding=True))


def key_condition(id_column: sa.ColumnElement[Any], key: Sequence[sa.ColumnElement[Any]],
                  value: Any) -> sa.ColumnElement[bool]:
    """The rows an id names: a value of ``id_column``, or a full key (a tuple of a value of
    each column of ``key``)."""
    if isinstance(value, tuple):
        return sa.and_(*(equals(column, part) for column, part
                         in zip(key, value, strict=True)))
    return equals(id_column, value)


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def database_matches(session: sa.orm.Session, id_column: sa.ColumnElement[Any],
                     key: Sequence[sa.ColumnElement[Any]],
                     ids: Sequence[Any]) -> dict[Any, list[Key]]:
    """The key of every row each id names (a row once per id, as many keys as rows: rows of a
    keyless table sharing a first column give the same key again), in one statement per 200
    ids: ``SELECT 0, key... WHERE <id 0> UNION ALL SELECT 1, key... WHERE <id 1> ...``.
    Reads without locks."""
    found: dict[Any, list[Key]] = {value: [] for value in ids}
    for chunk in _chunks(ids, _TERMS):
        terms = [sa.select(sa.literal_column(str(number), sa.Integer()).label("n"), *key)
                 .where(key_condition(id_column, key, value))
                 for number, value in enumerate(chunk)]
        statement = terms[0] if len(terms) == 1 else sa.union_all(*terms)
        for number, *values in session.execute(statement):
            found[chunk[number]].append(tuple(values))
    return found
