"""Rows: mapped classes per collection and loading them by id, in chunks.

A collection served through a user's declarative model loads instances of that model. Any other
collection gets a class mapped imperatively on its table the first time an action needs it: one
attribute per column (``getattr(row, "unit price")`` for names that are not identifiers), a
readable ``repr`` and ``to_dict()``. A ``timedelta`` set on a MySQL ``TIME`` attribute is kept as
the :class:`~flexorm.protocol.durations.Duration` the column reads as, so the row answers it as
it would read it back. Rows saved together are saved in the order of their keys; a key whose
values Python cannot order (a range, an ``inet`` holding both IPv4 and IPv6 addresses) is ordered
by their text.

Every loader here takes a blocking :class:`~sqlalchemy.orm.Session`; async bodies reuse them
through ``AsyncSession.run_sync``, so the loading logic exists once.

Rows of a view are changed only when the database can update that view: a row of a view it
cannot update (one joining several tables, a materialized view, any SQLite view) refuses to be
saved with an :class:`~flexorm.exceptions.ActionError`
naming the view, before any SQL is sent, so the action answers a 400 and writes nothing.

Ids match rows as the database compares them (see :mod:`flexorm.actions._key_matches`): a
blank-padded ``CHAR(n)`` key (Northwind's ``customers.customer_id``) matches an id sent without
its trailing blanks, ``'abc'`` the row ``'ABC'`` under a case-insensitive collation. A key
column whose values Python cannot hold as a row's identity (a MySQL ``SET``, an array, JSON)
selects no rows: its collection's record actions answer a 400. Selecting all the rows but some
is :mod:`flexorm.actions._inverse`.

Loading with a :class:`Locking` locks the rows for the rest of the transaction
(``SELECT ... ORDER BY key FOR UPDATE``), in key order, so that two transactions wanting
overlapping rows take their locks in the same order and cannot deadlock each other. SQLite has
no row locks: there a writing action holds the whole database from its start (see
:mod:`flexorm.database`). Rows of views are read without locks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapper, Session, registry

from flexorm.actions._key_matches import Key, database_matches, in_, key_condition
from flexorm.actions.params.ids import key_problem
from flexorm.db_errors import incomparable
from flexorm.exceptions import ActionError
from flexorm.protocol.durations import Duration
from flexorm.protocol.encoding import row_to_dict
from flexorm.reflection.records import CollectionInfo, SchemaInfo
from flexorm.reflection.typemap import MySQLTime, base_type, python_type_of

__all__ = ["Locking", "Row", "RowClass", "RowClasses", "Selection", "key_of",
           "load_by_ids", "load_groups", "row_locks", "selecting"]


@dataclass(frozen=True, slots=True)
class Locking:
    """Rows are loaded ``FOR UPDATE``; with ``skip_locked``, rows another transaction holds are
    left out instead of waited for."""

    skip_locked: bool = False


def row_locks(dialect: sa.Dialect) -> bool:
    """Whether the database locks single rows (``SELECT ... FOR UPDATE``): SQLite does not."""
    return dialect.name != "sqlite"


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
    match_key: Callable[[Any], Any] = field(default=lambda value: value)
    """How an id and a row's key are compared in Python (as the database compares them)."""
    key_matches: tuple[Callable[[Any], Any], ...] = ()
    """:attr:`match_key` of each column of ``order``, for full keys."""
    exact_ids: bool = False
    """Each id names at most one row, and only when equal to its key in Python (a one-column
    declared key that is not ``CHAR``): loading needs no blank trimming nor row grouping."""
    unaddressable: str | None = None
    """Why rows of this collection cannot be selected (a key column whose values cannot
    identify a row: see :func:`~flexorm.actions.params.ids.key_problem`), or ``None``."""


def _class_name(name: str) -> str:
    words = re.split(r"[^0-9A-Za-z]+", name)
    joined = "".join(w[:1].upper() + w[1:] for w in words if w) or "Row"
    return ("Row" + joined) if joined[0].isdigit() else joined


def _table_of(cls: type[Any]) -> sa.Table | None:
    table = getattr(cls, "__table__", None)
    return table if isinstance(table, sa.Table) else None


def _padded_match(value: Any) -> Any:
    return value.rstrip(" ") if isinstance(value, str) else value


def _same(value: Any) -> Any:
    return value


def _match_key(type_: sa.types.TypeEngine[Any]) -> Callable[[Any], Any]:
    """``CHAR(n)`` compares without trailing blanks (PostgreSQL pads stored values)."""
    kind = base_type(type_)
    if isinstance(kind, sa.CHAR) and not isinstance(kind, sa.Enum):
        return _padded_match
    return _same


_VERBS = {"before_insert": ("INSERT", 8, "insert"), "before_update": ("UPDATE", 4, "update"),
          "before_delete": ("DELETE", 16, "delete")}
"""Mapper event: (SQL verb, its bit in ``pg_relation_is_updatable``, wording)."""

_PG_UPDATABLE = sa.text(
    "SELECT pg_catalog.pg_relation_is_updatable(CAST(:relation AS regclass), true)")


def _view_allows(connection: sa.Connection, table: sa.Table, bit: int) -> bool:
    """Whether a saved row of the view ``table`` can reach the database.

    PostgreSQL says so itself (automatically updatable views, ``INSTEAD OF`` triggers, rules).
    SQLite never: it does not count rows changed through ``INSTEAD OF`` triggers, so the ORM
    cannot confirm a save (an explicit ``UPDATE`` through ``ctx.session`` still works). Other
    databases are trusted to answer for themselves.
    """
    dialect = connection.dialect
    if dialect.name == "postgresql":
        relation = dialect.identifier_preparer.format_table(table)
        mask = connection.execute(_PG_UPDATABLE, {"relation": relation}).scalar()
        return bool(int(mask or 0) & bit)
    return dialect.name != "sqlite"


def _guard_view_writes(cls: type[Any], collection: CollectionInfo, table: sa.Table) -> None:
    """Refuse to save rows of ``cls`` when the database cannot write the view (asked once
    per kind of change, on the flushing connection)."""
    answers: dict[str, bool] = {}

    def listener(event: str) -> Callable[..., None]:
        verb, bit, wording = _VERBS[event]

        def check(_mapper: Any, connection: sa.Connection, _target: Any) -> None:
            allowed = answers.get(verb)
            if allowed is None:
                allowed = answers[verb] = _view_allows(connection, table, bit)
            if not allowed:
                raise ActionError(
                    f"{collection.name} is a view the database cannot {wording}: its rows "
                    "cannot be changed (change the tables it reads from instead)"
                )

        return check

    for event in _VERBS:
        sa.event.listen(cls, event, listener(event))


def _as_duration(_target: Any, value: Any, _old: Any, _initiator: Any) -> Any:
    return Duration.of(value) if isinstance(value, dt.timedelta) else value


def _keep_durations(mapper: Mapper[Any]) -> None:
    """A ``timedelta`` set on a MySQL ``TIME`` attribute becomes a ``Duration``, as the column
    reads it: the row then answers ``100:00:00`` whether it was read or set."""
    for prop in mapper.column_attrs:
        if isinstance(prop.columns[0].type, MySQLTime):
            sa.event.listen(prop.class_attribute, "set", _as_duration, retval=True)


_SELF_ORDERED = (int, float, Decimal, str, bytes, dt.date, dt.time, dt.timedelta, uuid.UUID)
"""Python types whose values order among themselves (a ``datetime`` is a ``date``)."""


def _text_order(value: Any) -> tuple[str, str]:
    return type(value).__qualname__, str(value)


def _orderable_keys(mapper: Mapper[Any]) -> None:
    """Rows saved together are saved in the order of their keys: SQLAlchemy sorts them with
    ``<``, which a range or an ``inet`` of both families (``10.0.0.1`` and ``::1``) does not
    have. Such a key column's type orders its values by their text instead."""
    for column in mapper.primary_key:
        type_ = column.type
        if type_.sort_key_function is not None or isinstance(type_, sa.TypeDecorator):
            continue
        python_type = python_type_of(type_)
        if python_type is None or not issubclass(python_type, _SELF_ORDERED):
            type_.sort_key_function = _text_order


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
        self._triggered: set[tuple[str | None, str]] | None = None
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

    def _triggered_tables(self) -> set[tuple[str | None, str]]:
        triggered = self._triggered
        if triggered is None:  # idempotent: threads racing here build the same set
            triggered = self._triggered = {(c.schema, c.table) for c in self._schema
                                           if c.triggers}
        return triggered

    def triggered(self, mapper: Mapper[Any]) -> bool:
        """Whether the database runs row triggers that may change the rows of ``mapper``'s
        table when they are inserted or updated (see
        :attr:`~flexorm.reflection.records.CollectionInfo.triggers`): a flexorm class's or a
        user model's, matched to its collection by table name and schema."""
        triggered = self._triggered_tables()
        table = mapper.local_table
        if not triggered or not isinstance(table, sa.Table):
            return False
        schema = None if table.schema == self._schema.default_schema else table.schema
        return (schema, table.name) in triggered

    def _build(self, collection: CollectionInfo) -> RowClass:
        cls = self._user.get(collection.name)
        if cls is None:
            cls = type(_class_name(collection.name), (Row,),
                       {"__flexorm_collection__": collection.name})
            mapped = self._registry.map_imperatively(cls, collection.sa_table)
            _keep_durations(mapped)
            _orderable_keys(mapped)
            if collection.is_view:
                _guard_view_writes(cls, collection, collection.sa_table)
        mapper: Mapper[Any] = sa.inspect(cls)
        columns = {c.name: c for c in mapper.local_table.columns}
        id_column = columns[collection.primary_key_field]
        order = tuple(columns[name] for name in collection.primary_key)
        match_key = _match_key(id_column.type)
        return RowClass(
            collection=collection, cls=cls, id_column=id_column,
            id_key=mapper.get_property_by_column(id_column).key,
            order=order, order_keys=tuple(mapper.get_property_by_column(c).key for c in order),
            unique_order=collection.has_primary_key,
            match_key=match_key,
            key_matches=tuple(_match_key(column.type) for column in order),
            exact_ids=(collection.has_primary_key and len(order) == 1
                       and match_key is _same),
            unaddressable=next((problem for name in collection.primary_key
                                if (problem := key_problem(collection.columns[name]))), None),
        )


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass(frozen=True, slots=True)
class Selection:
    """The rows a list of ids names: found, missing, and ids naming more than one row."""

    rows: list[Any]
    """In the ids' order."""
    missing: list[Any]
    """Ids that match no row."""
    ambiguous: list[tuple[Any, int]]
    """``(id, how many rows it matches)`` for each id that names more than one row: an
    action never acts on more rows than were selected, so these are refused."""


@contextlib.contextmanager
def selecting(rows: RowClass) -> Iterator[None]:
    """Around flexorm's own statements selecting rows of ``rows`` by key: raise
    :class:`~flexorm.exceptions.ActionError` when they cannot be selected, as Python tells
    (see :attr:`RowClass.unaddressable`) or as the database does (a key column of a type it
    cannot compare nor order: PostgreSQL's ``point``, ``xml``)."""
    if rows.unaddressable is not None:
        raise ActionError(f"records of {rows.collection.name} cannot be selected: "
                          f"{rows.unaddressable}")
    try:
        yield
    except sa.exc.DBAPIError as exc:
        if not incomparable(exc):
            raise
        names = ", ".join(column.name for column in rows.order)
        raise ActionError(f"records of {rows.collection.name} cannot be selected: the "
                          f"database cannot compare values of {names}") from None


def load_by_ids(
    session: Session, rows: RowClass, ids: Sequence[Any], chunk_size: int,
    lock: Locking | None = None,
) -> Selection:
    """The rows with these ids, in the ids' order (see :func:`load_groups`).

    One ``SELECT ... WHERE id IN (...)`` per chunk of ``chunk_size`` ids.
    """
    return load_groups(session, rows, [ids], chunk_size, lock)[0]


def load_groups(
    session: Session, rows: RowClass, groups: Sequence[Sequence[Any]], chunk_size: int,
    lock: Locking | None = None,
) -> list[Selection]:
    """:func:`load_by_ids` for several lists of ids of one collection, in one pass over the
    rows they name together.

    An id is a value of the collection's first key column (Jet Admin's id), or a full key: a
    tuple of every key column's value, in key order. A first-column id that matches several
    rows (a composite key, a table without one) is *ambiguous*, and none of its rows is
    returned. Two ids naming one row (``'abc'`` and ``'ABC'`` under a case-insensitive
    collation) return it once.

    The rows are found in SQL, and matched to their ids in Python; an id Python cannot match
    (a row read back otherwise than it was sent, a row another transaction holds) is matched
    by the database (:func:`~flexorm.actions._key_matches.database_matches`), so an id names
    exactly the rows the database says it does.

    With ``lock``, the rows are locked in key order (the ids sorted, each chunk ordered by the
    key). With ``lock.skip_locked``, ids of rows another transaction holds are left out.
    """
    with selecting(rows):
        return _load_groups(session, rows, groups, chunk_size, lock)


def _load_groups(
    session: Session, rows: RowClass, groups: Sequence[Sequence[Any]], chunk_size: int,
    lock: Locking | None,
) -> list[Selection]:
    wanted: Sequence[Any] = (groups[0] if len(groups) == 1
                             else list(dict.fromkeys(itertools.chain.from_iterable(groups))))
    locking = lock is not None and not rows.collection.is_view
    if locking:
        wanted = _in_key_order(wanted)
    statement = sa.select(rows.cls)
    if locking and lock is not None:
        statement = statement.order_by(*rows.order).with_for_update(
            skip_locked=lock.skip_locked)
    full = [value for value in wanted if isinstance(value, tuple)]
    if rows.exact_ids and not full:
        exact = _fetch_exact(session, rows, statement, wanted, chunk_size)
        unmatched = [value for value in wanted if value not in exact]
        if not unmatched and len(exact) == len(wanted):  # each id found once, as sent
            return [_pick_exact(exact, ids, single=len(groups) == 1) for ids in groups]
        claimed = len(wanted) - len(unmatched)
        # a row no id claims was matched by the database otherwise: it decides for every id
        asked = unmatched if len(exact) == claimed else wanted
        loaded = {(key,): row for key, row in exact.items()}
        keys = database_matches(session, rows.id_column, rows.order, asked)
        return [_pick(rows, _Found(loaded=loaded, by_database=keys, plain=_by_value(exact)),
                      ids) for ids in groups]
    plain = [value for value in wanted if not isinstance(value, tuple)] if full else wanted
    found = _fetch(session, rows, statement, plain, chunk_size) if plain else {}
    by_key = _fetch_full(session, rows, statement, full, chunk_size) if full else {}
    # without a declared key, rows sharing a first column are one object to the ORM:
    # the database counts them
    counts = (_duplicates(session, rows, plain, chunk_size)
              if plain and not rows.unique_order else {})
    asked = (_unmatched(plain, rows.match_key, [found, counts])
             + _unmatched(full, lambda value: _full_key(rows, value), [by_key]))
    keys = database_matches(session, rows.id_column, rows.order, asked) if asked else {}
    loaded = {key_of(rows, row): row for hit in itertools.chain(found.values(),
                                                                  by_key.values())
              for row in hit} if keys else {}
    matches = _Found(loaded=loaded, by_database=keys, plain=found, full=by_key, counts=counts)
    return [_pick(rows, matches, ids) for ids in groups]


def _in_key_order(ids: Sequence[Any]) -> Sequence[Any]:
    try:
        return sorted(ids)
    except TypeError:  # ids of mixed kinds: the database orders each chunk still
        return ids


def key_of(rows: RowClass, row: Any) -> Key:
    """A loaded row's key, as :func:`database_matches` reads it."""
    return tuple(getattr(row, name) for name in rows.order_keys)


def _unmatched(ids: Sequence[Any], match: Callable[[Any], Any],
               found: Sequence[Mapping[Any, Any]]) -> list[Any]:
    """The ids Python matched to no row; all of them when a row was found that Python
    matches to no id (the database matched it otherwise, to one of them or several)."""
    if not ids:
        return []
    keys = {match(value) for value in ids}
    if any(key not in keys for entries in found for key in entries):
        return list(ids)
    return [value for value in ids if match(value) not in found[0]]


def _by_value(exact: Mapping[Any, Any]) -> dict[Any, list[Any]]:
    return {key: [row] for key, row in exact.items()}


def _fetch(session: Session, rows: RowClass, statement: sa.Select[Any], ids: Sequence[Any],
           chunk_size: int) -> dict[Any, list[Any]]:
    found: dict[Any, list[Any]] = {}
    seen: set[int] = set()  # a row matched again by a later chunk ("AB" then "AB   ")
    match = rows.match_key
    for chunk in _chunks(ids, chunk_size):
        for row in session.scalars(statement.where(in_(rows.id_column, chunk))):
            if id(row) not in seen:
                seen.add(id(row))
                found.setdefault(match(getattr(row, rows.id_key)), []).append(row)
    return found


def _full_key(rows: RowClass, values: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(match(value) for match, value in zip(rows.key_matches, values, strict=True))


def _fetch_full(session: Session, rows: RowClass, statement: sa.Select[Any],
                keys: Sequence[tuple[Any, ...]], chunk_size: int) -> dict[Any, list[Any]]:
    """Rows by full key: one ``WHERE (k1 = ? AND k2 = ?) OR ...`` per chunk (a form every
    database takes)."""
    found: dict[Any, list[Any]] = {}
    seen: set[int] = set()
    for chunk in _chunks(keys, chunk_size):
        condition = sa.or_(*(key_condition(rows.id_column, rows.order, key) for key in chunk))
        for row in session.scalars(statement.where(condition)):
            if id(row) not in seen:
                seen.add(id(row))
                key = _full_key(rows, (getattr(row, name) for name in rows.order_keys))
                found.setdefault(key, []).append(row)
    return found


def _duplicates(session: Session, rows: RowClass, ids: Sequence[Any],
                chunk_size: int) -> dict[Any, int]:
    """How many rows each id matches, for the ids matching more than one."""
    counts: dict[Any, int] = {}
    number = sa.func.count()
    for chunk in _chunks(ids, chunk_size):
        query = (sa.select(rows.id_column, number).where(in_(rows.id_column, chunk))
                 .group_by(rows.id_column).having(number > 1))
        for value, count in session.execute(query):
            key = rows.match_key(value)
            counts[key] = counts.get(key, 0) + int(count)
    return counts


@dataclass(frozen=True, slots=True)
class _Found:
    """What was found for a list of ids: rows by Python's match of their first column
    (``plain``) and of their full key (``full``), the counts of a keyless table's shared
    first columns, and the keys the database matched to the ids Python could not match."""

    loaded: Mapping[Key, Any]
    """The loaded rows by key, for :attr:`by_database`."""
    by_database: Mapping[Any, list[Key]]
    plain: Mapping[Any, list[Any]]
    full: Mapping[Any, list[Any]] = field(default_factory=dict)
    counts: Mapping[Any, int] = field(default_factory=dict)


def _pick(rows: RowClass, found: _Found, ids: Sequence[Any]) -> Selection:
    loaded: list[Any] = []
    missing: list[Any] = []
    ambiguous: list[tuple[Any, int]] = []
    seen: set[int] = set()  # "AB" and "AB   " name the same CHAR(5) row: loaded once
    match = rows.match_key
    for value in ids:
        keys = found.by_database.get(value)
        if keys is not None:
            # rows of keys that were not loaded are held by another transaction (skipped)
            hit: list[Any] | None = [found.loaded[key] for key in dict.fromkeys(keys)
                                     if key in found.loaded]
            matched = len(keys)
            if not matched:
                hit = None
        elif isinstance(value, tuple):
            hit = found.full.get(_full_key(rows, value))
            matched = 1
        else:
            key = match(value)
            hit = found.plain.get(key)
            matched = found.counts.get(key) or len(hit or ())
        if matched > 1 and not isinstance(value, tuple):
            ambiguous.append((value, matched))
            continue
        if hit is None:
            missing.append(value)
            continue
        for row in hit:
            if id(row) not in seen:
                seen.add(id(row))
                loaded.append(row)
    return Selection(loaded, missing, ambiguous)


def _fetch_exact(session: Session, rows: RowClass, statement: sa.Select[Any],
                 ids: Sequence[Any], chunk_size: int) -> dict[Any, Any]:
    """:func:`_fetch` when each id names at most one row, equal to its key: one dict entry per
    row (large selections keep fewer objects alive, so the collector has less to walk)."""
    found: dict[Any, Any] = {}
    key = rows.id_key
    for chunk in _chunks(ids, chunk_size):
        for row in session.scalars(statement.where(in_(rows.id_column, chunk))):
            found[getattr(row, key)] = row
    return found


def _pick_exact(found: dict[Any, Any], ids: Sequence[Any], single: bool) -> Selection:
    """Every id found, as sent (see :func:`load_groups`)."""
    return Selection([found[value] for value in (ids if single else dict.fromkeys(ids))],
                     [], [])
