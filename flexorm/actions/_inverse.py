"""Selecting all the rows of a collection but some ids (``inverseIds``), a chunk at a time.

The ids are left out in SQL, as the database compares them (so ``'abc'`` leaves out the row
``'ABC'`` under a case-insensitive collation, as it would select it).

A table without a declared key tells its rows apart by their first column alone: rows sharing a
value there are one object to the ORM (which would write to them all as one), rows without one
cannot be loaded at all. Such a selection is refused before any row is loaded, as an id naming
several rows is (:func:`~flexorm.actions._rows.load_groups`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from flexorm.actions._key_matches import Key, database_matches, in_, key_condition
from flexorm.actions._rows import Locking, RowClass, key_of, selecting
from flexorm.exceptions import ValidationError

__all__ = ["Cursor", "load_inverse_chunk"]

Cursor = tuple[Any, ...] | int | None
"""Where the next inverse chunk starts: the last key seen, or an offset."""


def load_inverse_chunk(
    session: Session, rows: RowClass, exclude: frozenset[Any], after: Cursor, chunk_size: int,
    lock: Locking | None = None,
) -> tuple[list[Any], Cursor]:
    """One chunk of the rows whose id is not in ``exclude``, and the cursor of the next chunk
    (``None`` after the last).

    Pages by key (``WHERE key > last ORDER BY key LIMIT n``), so each chunk is one cheap query;
    a table without a declared key pages by offset. The ids are left out in SQL, as the
    database compares them (a few thousand ids at most; more are matched by the database
    first, see :func:`~flexorm.actions._key_matches.database_matches`). With ``lock``, the
    chunk's rows are locked as they are loaded.

    Raises:
        ValidationError: the first chunk of a table without a declared key, whose selection
            holds rows the ORM cannot tell apart: rows sharing a first-column value, or
            without one (nothing is loaded, so nothing is written).
        ActionError: rows of this collection cannot be selected (see
            :func:`~flexorm.actions._rows.selecting`).
    """
    with selecting(rows):
        return _load_inverse_chunk(session, rows, exclude, after, chunk_size, lock)


def _load_inverse_chunk(
    session: Session, rows: RowClass, exclude: frozenset[Any], after: Cursor, chunk_size: int,
    lock: Locking | None,
) -> tuple[list[Any], Cursor]:
    starting = not (isinstance(after, int) or (isinstance(after, tuple) and after))
    keyless_start = starting and not rows.unique_order
    ids = list(exclude)
    leaving_out = _exclusion(rows, ids, chunk_size) if ids else None
    excluded: set[Key] = set()
    if ids and (leaving_out is None or keyless_start):
        excluded = {key for keys in database_matches(session, rows.id_column, rows.order,
                                                     ids).values() for key in keys}
    if keyless_start:
        _refuse_indistinct(session, rows, excluded)
    statement = sa.select(rows.cls).order_by(*rows.order).limit(chunk_size)
    if leaving_out is not None:
        statement = statement.where(leaving_out)
    if lock is not None and not rows.collection.is_view:
        statement = statement.with_for_update(skip_locked=lock.skip_locked)
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
    # a row without a key is None to the ORM: refused above, unless inserted since
    page = [row for row in page if row is not None]
    if leaving_out is None and excluded:
        page = [row for row in page if key_of(rows, row) not in excluded]
    return page, cursor


def _exclusion(rows: RowClass, ids: Sequence[Any],
               chunk_size: int) -> sa.ColumnElement[bool] | None:
    """``NOT (<the rows these ids name>)``, or ``None`` for too many ids to bind (more values
    than a chunk's)."""
    plain = [value for value in ids if not isinstance(value, tuple)]
    full = [value for value in ids if isinstance(value, tuple)]
    if len(plain) + len(full) * len(rows.order) > chunk_size:
        return None
    named = [in_(rows.id_column, plain)] if plain else []
    named += [key_condition(rows.id_column, rows.order, value) for value in full]
    return sa.not_(sa.or_(*named))


_SHOWN_INDISTINCT = 3


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _refuse_indistinct(session: Session, rows: RowClass, excluded: set[Key]) -> None:
    """Refuse a selection of all the rows of a keyless table but ``excluded`` when some of
    them cannot be told apart: they share their first column (the ORM would write to them all
    as one), or have none (the ORM cannot load them).

    Raises:
        ValidationError: on ``inverseIds``, naming the first column and its values.
    """
    first = rows.id_column
    number = sa.func.count()
    query = (sa.select(first, number).group_by(first)
             .having(sa.or_(number > 1, first.is_(None)))
             .limit(len(excluded) + _SHOWN_INDISTINCT + 1))
    groups = [(value, int(count)) for value, count in session.execute(query)
              if value is None or (value,) not in excluded]
    if not groups:
        return
    name = rows.collection.name
    column = rows.collection.primary_key_field
    parts = [(f"{count} record has" if count == 1 else f"{count} records have")
             + (f" no {column}" if value is None else f" {column} {_shown(value)}")
             for value, count in groups[:_SHOWN_INDISTINCT]]
    more = " and more" if len(groups) > _SHOWN_INDISTINCT else ""
    raise ValidationError({"inverseIds": [
        f"{name} has no primary key, and its records are told apart by their first column, "
        f"{column}, alone: {', '.join(parts)}{more}; inverseIds cannot select these (select "
        "records by id instead)"]})
