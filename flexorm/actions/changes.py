"""What one transaction changed, table by table: counts, and the first rows column by column.

A :class:`ChangeCollector` listens to one SQLAlchemy ``Session`` (with SQLAlchemy's public
event API) while a transaction runs:

- **ORM changes** (``after_flush``): every new, dirty and deleted object of each flush, from
  the attribute history SQLAlchemy keeps until the flush ends. A row is counted once however
  many flushes touch it, by its table and primary key; inserted then deleted in the same
  transaction, it is not counted at all.
- **Statements run through the session** (``do_orm_execute``): ``update()``, ``delete()`` and
  ``insert()``, on a ``Table`` or on a mapped class, and textual ``UPDATE``/``DELETE``/
  ``INSERT``. Each is counted from its rowcount; where the driver gives none (a statement with
  ``RETURNING`` on SQLite), from a ``count(*)`` of the rows its ``WHERE`` matches, read just
  before it runs. The first rows it touches are read inside the transaction, before and after
  the statement (by primary key), so an update lists exactly the columns whose values changed.
  A row changed by two statements counts for each.

Not seen: statements run on another connection, or on the session's connection directly
(``session.connection().execute(...)``, ``exec_driver_sql``), and what database triggers do.

Examples:
    >>> import sqlalchemy as sa
    >>> from sqlalchemy.orm import Session
    >>> engine = sa.create_engine("sqlite://")
    >>> table = sa.Table("t", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
    ...                  sa.Column("v", sa.Integer))
    >>> table.metadata.create_all(engine)
    >>> with Session(engine) as session, session.begin():
    ...     with ChangeCollector(session) as collector:
    ...         _ = session.execute(table.insert(), [{"id": 1, "v": 1}, {"id": 2, "v": 2}])
    ...         _ = session.execute(table.update().where(table.c.id == 2).values(v=20))
    ...     print(collector.changes.as_json())
    ...     session.rollback()
    {'t': {'inserted': 2, 'updated': 1, 'deleted': 0, 'rows': [{'key': 1, 'change': 'inserted', \
'columns': {'id': [None, 1], 'v': [None, 1]}}, {'key': 2, 'change': 'inserted', 'columns': \
{'id': [None, 2], 'v': [None, 2]}}, {'key': 2, 'change': 'updated', 'columns': {'v': [2, 20]}}]}}
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import (
    InstanceState,
    Mapper,
    ORMExecuteState,
    PassiveFlag,
    Session,
    UOWTransaction,
)
from sqlalchemy.orm.attributes import get_history, instance_state

__all__ = ["ChangeCollector", "Changes", "RowChange", "TableChanges"]

Kind = Literal["inserted", "updated", "deleted"]

DEFAULT_SHOWN = 20

_TEXT_DML = re.compile(
    r"""^\s*(?:(UPDATE)|(DELETE)\s+FROM|(INSERT)(?:\s+\w+)*?\s+INTO)\s+([`"\[]?[\w$.]+[`"\]]?)""",
    re.IGNORECASE,
)
"""A textual UPDATE, DELETE or INSERT, and the table it names."""


@dataclass(slots=True)
class RowChange:
    """One changed row: its primary key and each changed column as ``[before, after]``."""

    key: Any
    """The primary key's value (a list for a composite key); ``None`` for a table without
    one."""
    change: Kind
    columns: dict[str, list[Any]] = field(default_factory=dict)
    """Column name to ``[before, after]``: ``before`` is ``None`` for an inserted row,
    ``after`` for a deleted one."""


@dataclass(slots=True)
class TableChanges:
    """The changes of one table."""

    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    rows: list[RowChange] = field(default_factory=list)
    """The first changed rows, in the order they changed."""

    @property
    def total(self) -> int:
        """Rows inserted, updated and deleted."""
        return self.inserted + self.updated + self.deleted

    def counts(self) -> dict[str, int]:
        return {"inserted": self.inserted, "updated": self.updated, "deleted": self.deleted}


@dataclass(frozen=True, slots=True)
class Changes:
    """Everything a transaction changed, by table name (``schema.table`` outside the default
    schema)."""

    tables: Mapping[str, TableChanges]

    @property
    def total(self) -> int:
        return sum(table.total for table in self.tables.values())

    def counts(self) -> dict[str, dict[str, int]]:
        """Per table, the inserted, updated and deleted counts (tables without changes left
        out)."""
        return {name: table.counts() for name, table in sorted(self.tables.items())
                if table.total}

    def as_json(self, encode: Callable[[Any], Any] = lambda value: value) -> dict[str, Any]:
        """Per table: the counts and the listed rows, values passed through ``encode``."""
        out: dict[str, Any] = {}
        for name, table in sorted(self.tables.items()):
            if not table.total and not table.rows:
                continue
            out[name] = {**table.counts(), "rows": [
                {"key": encode(row.key), "change": row.change,
                 "columns": {column: [encode(before), encode(after)]
                             for column, (before, after) in row.columns.items()}}
                for row in table.rows]}
        return out


@dataclass(frozen=True, slots=True)
class _Column:
    key: str
    """The mapped attribute."""
    name: str
    """The database column."""
    table: str


class _Mapped:
    """A mapped class's column attributes, by table."""

    __slots__ = ("keys", "ordered", "tables")

    def __init__(self, mapper: Mapper[Any]) -> None:
        self.tables: dict[str, list[_Column]] = {}
        for prop in mapper.column_attrs:
            column = prop.columns[0]
            if isinstance(column, sa.Column) and isinstance(column.table, sa.Table):
                name = _name(column.table)
                self.tables.setdefault(name, []).append(_Column(prop.key, column.name, name))
        self.ordered = tuple(c.key for columns in self.tables.values() for c in columns)
        self.keys = frozenset(self.ordered)


class _Table:
    """What the collector knows of one table so far."""

    __slots__ = ("changes", "orm", "shown", "spare")

    def __init__(self, shown: int) -> None:
        self.changes = TableChanges()
        self.orm: dict[Any, Kind] = {}
        """Rows changed by flushes, by key: their net change."""
        self.shown: dict[Any, RowChange] = {}
        """Listed rows changed by flushes, by key."""
        self.spare = shown

    def list_row(self, row: RowChange) -> bool:
        if self.spare <= 0:
            return False
        self.spare -= 1
        self.changes.rows.append(row)
        return True


def _name(table: sa.Table) -> str:
    return table.fullname


def _key_value(values: Sequence[Any]) -> Any:
    return values[0] if len(values) == 1 else list(values)


class _Shape:
    """A table's columns and primary key, for reading rows back by key."""

    __slots__ = ("columns", "key_at", "keys", "names", "target")

    def __init__(self, target: sa.Table) -> None:
        self.target = target
        self.columns = list(target.columns)
        self.names = [column.name for column in self.columns]
        self.keys = list(target.primary_key.columns)
        self.key_at = [self.columns.index(column) for column in self.keys]

    def key(self, row: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(row[i] for i in self.key_at)

    def by_key(self, conn: sa.Connection,
               keys: Sequence[tuple[Any, ...]]) -> dict[tuple[Any, ...], sa.Row[Any]]:
        """The rows with these keys, now."""
        if not keys:
            return {}
        if len(self.keys) == 1:
            where = self.keys[0].in_([key[0] for key in keys])
        else:
            where = sa.tuple_(*self.keys).in_(keys)
        found = conn.execute(sa.select(*self.columns).where(where))
        return {self.key(row): row for row in found}


def _in_key_order(states: Iterable[InstanceState[Any]]) -> list[InstanceState[Any]]:
    """Persistent objects by class, then key: the session keeps modified objects unordered."""
    by_class: dict[Mapper[Any], list[InstanceState[Any]]] = {}
    for state in states:
        if state.key is not None:
            by_class.setdefault(state.mapper, []).append(state)
    ordered: list[InstanceState[Any]] = []
    for group in by_class.values():
        with contextlib.suppress(TypeError):  # keys that do not compare: left as they are
            group.sort(key=lambda state: state.key[1])  # type: ignore[index]
        ordered.extend(group)
    return ordered


class ChangeCollector:
    """Collects the changes of one session's transaction while it is active (a context
    manager: listening from ``__enter__`` to ``__exit__``).

    Args:
        session: the session (for an ``AsyncSession``, its ``sync_session``).
        shown: how many rows to list per table, with their columns.
    """

    def __init__(self, session: Session, *, shown: int = DEFAULT_SHOWN) -> None:
        self._session = session
        self._shown = max(0, shown)
        self._tables: dict[str, _Table] = {}
        self._columns: dict[Mapper[Any], _Mapped] = {}
        self._listening = False

    # -- listening ----------------------------------------------------------------------------

    def __enter__(self) -> ChangeCollector:
        event.listen(self._session, "after_flush", self._after_flush)
        event.listen(self._session, "do_orm_execute", self._on_execute)
        self._listening = True
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop listening (what was collected stays)."""
        if self._listening:
            event.remove(self._session, "after_flush", self._after_flush)
            event.remove(self._session, "do_orm_execute", self._on_execute)
            self._listening = False

    @property
    def changes(self) -> Changes:
        """What was collected so far."""
        return Changes({name: table.changes for name, table in self._tables.items()})

    def _table(self, name: str) -> _Table:
        found = self._tables.get(name)
        if found is None:
            found = self._tables[name] = _Table(self._shown)
        return found

    # -- ORM flushes --------------------------------------------------------------------------

    def _mapped_columns(self, mapper: Mapper[Any]) -> _Mapped:
        found = self._columns.get(mapper)
        if found is None:
            found = self._columns[mapper] = _Mapped(mapper)
        return found

    def _after_flush(self, session: Session, flush_context: UOWTransaction) -> None:
        # Still the flush's "before" view: new, dirty and deleted hold what this flush wrote,
        # and attribute history is reset only after this event.
        for obj in session.new:
            self._flushed_insert(instance_state(obj))
        mapper: Mapper[Any] | None = None
        mapped: _Mapped | None = None
        for state in _in_key_order(instance_state(obj) for obj in session.dirty):
            if state.mapper is not mapper:
                mapper = state.mapper
                mapped = self._mapped_columns(mapper)
            assert mapped is not None
            self._flushed_update(state, mapped)
        for obj in session.deleted:
            self._flushed_delete(instance_state(obj))

    def _flushed_insert(self, state: InstanceState[Any]) -> None:
        mapped = self._mapped_columns(state.mapper)
        key = tuple(state.mapper.primary_key_from_instance(state.obj()))
        values = state.dict
        for name, columns in mapped.tables.items():
            table = self._table(name)
            previous = table.orm.get(key)
            if previous is None:
                table.orm[key] = "inserted"
                table.changes.inserted += 1
            elif previous == "deleted":  # deleted, then a new row with the same key
                table.orm[key] = "updated"
                table.changes.deleted -= 1
                table.changes.updated += 1
            if table.spare or key in table.shown:
                self._show(table, key, table.orm[key], {
                    c.name: [None, values[c.key]] for c in columns if c.key in values})

    def _flushed_update(self, state: InstanceState[Any], mapped: _Mapped) -> None:
        unmodified = state.unmodified_intersection(mapped.keys)
        if len(unmodified) == len(mapped.keys):
            return
        obj = state.obj()
        changed: dict[str, list[Any]] = {}
        for attribute in mapped.ordered:
            if attribute in unmodified:
                continue
            history = get_history(obj, attribute, PassiveFlag.PASSIVE_NO_INITIALIZE)
            if history.added or history.deleted:  # has_changes(), without the call
                changed[attribute] = [history.deleted[0] if history.deleted else None,
                                      history.added[0] if history.added else None]
        if not changed:
            return
        key = state.identity or ()
        for name, columns in mapped.tables.items():
            if len(mapped.tables) > 1 and not any(c.key in changed for c in columns):
                continue
            table = self._table(name)
            kind = table.orm.get(key)
            if kind is None:
                kind = table.orm[key] = "updated"
                table.changes.updated += 1
            if table.spare or key in table.shown:
                self._show(table, key, kind, {c.name: changed[c.key] for c in columns
                                              if c.key in changed})

    def _flushed_delete(self, state: InstanceState[Any]) -> None:
        key = state.identity or ()
        values = state.dict
        for name, columns in self._mapped_columns(state.mapper).tables.items():
            table = self._table(name)
            previous = table.orm.get(key)
            if previous == "inserted":  # inserted and deleted in this transaction: no change
                del table.orm[key]
                table.changes.inserted -= 1
                shown = table.shown.pop(key, None)
                if shown is not None:
                    table.changes.rows.remove(shown)
                    table.spare += 1
                continue
            if previous == "updated":
                table.changes.updated -= 1
            table.orm[key] = "deleted"
            table.changes.deleted += 1
            if table.spare or key in table.shown:
                self._show(table, key, "deleted", {
                    c.name: [values[c.key], None] for c in columns if c.key in values})

    @staticmethod
    def _show(table: _Table, key: tuple[Any, ...], kind: Kind,
              values: dict[str, list[Any]]) -> None:
        """List a flushed row, or merge this flush into its listing: the first ``before``
        stays, the last ``after`` wins; a column back at its first value is left out."""
        shown = table.shown.get(key)
        if shown is None:
            row = RowChange(_key_value(key), kind, values)
            if table.list_row(row):
                table.shown[key] = row
            return
        shown.change = kind
        if kind == "deleted":
            earlier = shown.columns
            shown.columns = {name: [earlier[name][0] if name in earlier else before, None]
                             for name, (before, _) in values.items()}
            return
        for name, (before, after) in values.items():
            if name in shown.columns:
                before = shown.columns[name][0]
            if before == after and kind == "updated":
                shown.columns.pop(name, None)
            else:
                shown.columns[name] = [before, after]

    # -- statements run through the session ---------------------------------------------------

    def _on_execute(self, state: ORMExecuteState) -> Result[Any] | None:
        statement = state.statement
        if isinstance(statement, sa.TextClause):
            return self._text(state, statement)
        if not (state.is_update or state.is_delete or state.is_insert):
            return None
        if not isinstance(statement, sa.Insert | sa.Update | sa.Delete):
            return None  # select(...).from_statement(update(...)): an ORM-level wrapper
        target = statement.table
        if not isinstance(target, sa.Table):
            return None
        if state.is_orm_statement and state.session.autoflush:
            # the statement would flush pending objects first: do it now, so that what is
            # read before it runs is what it will see
            state.session.flush()
        if isinstance(statement, sa.Insert):
            return self._insert(state, statement, target)
        return self._update_or_delete(state, statement, target)

    def _connection(self, state: ORMExecuteState) -> sa.Connection:
        return state.session.connection()

    @staticmethod
    def _rowcount(result: Result[Any]) -> int:
        return result.rowcount if isinstance(result, CursorResult) else -1

    @staticmethod
    def _params(state: ORMExecuteState) -> list[Mapping[str, Any]]:
        params = state.parameters
        if params is None:
            return []
        if isinstance(params, Mapping):
            return [params] if params else []
        return list(params)

    def _update_or_delete(self, state: ORMExecuteState, statement: sa.Update | sa.Delete,
                          target: sa.Table) -> Result[Any]:
        kind: Kind = "updated" if isinstance(statement, sa.Update) else "deleted"
        params = self._params(state)
        table = self._table(_name(target))
        shape = _Shape(target)
        where = statement.whereclause
        conn = self._connection(state)
        before: list[sa.Row[Any]] = []
        if len(params) <= 1 and (shape.keys or kind == "deleted") and table.spare > 0:
            query = sa.select(*shape.columns).limit(table.spare).order_by(*shape.keys)
            if where is not None:
                query = query.where(where)
            before = list(conn.execute(query, params[0] if params else {}))
        counted: int | None = None
        if statement.exported_columns:
            # RETURNING: some drivers (SQLite's) count no rows then; count them first
            query = sa.select(sa.func.count()).select_from(target)
            if where is not None:
                query = query.where(where)
            counted = sum(int(conn.execute(query, p).scalar_one()) for p in (params or [{}]))
        result = state.invoke_statement()
        if counted is None:
            rowcount = self._rowcount(result)
            counted = rowcount if rowcount >= 0 else len(params) or 1
        if kind == "updated":
            table.changes.updated += counted
        else:
            table.changes.deleted += counted
        if not before:
            return result
        after: dict[tuple[Any, ...], sa.Row[Any]] = {}
        if kind == "updated":
            after = shape.by_key(conn, [shape.key(row) for row in before])
        for row in before:
            if kind == "deleted":
                columns = {name: [value, None] for name, value in zip(shape.names, row,
                                                                      strict=True)}
            else:
                new = after.get(shape.key(row))
                columns = {} if new is None else {
                    name: [old, value]
                    for name, old, value in zip(shape.names, row, new, strict=True)
                    if old != value}
            key = _key_value(shape.key(row)) if shape.keys else None
            table.list_row(RowChange(key, kind, columns))
        return result

    def _insert(self, state: ORMExecuteState, statement: sa.Insert,
                target: sa.Table) -> Result[Any]:
        params = self._params(state)
        table = self._table(_name(target))
        conn = self._connection(state)
        counting = bool(statement.exported_columns)  # RETURNING: see _update_or_delete
        rows_before = self._count(conn, target) if counting else 0
        result = state.invoke_statement()
        if counting:
            counted = self._count(conn, target) - rows_before
        else:
            rowcount = self._rowcount(result)
            counted = rowcount if rowcount >= 0 else len(params) or 1
        table.changes.inserted += counted
        if table.spare > 0 and counted > 0:
            self._list_inserted(conn, result, params, _Shape(target), table)
        return result

    @staticmethod
    def _count(conn: sa.Connection, target: sa.Table) -> int:
        return int(conn.execute(sa.select(sa.func.count()).select_from(target)).scalar_one())

    @staticmethod
    def _list_inserted(conn: sa.Connection, result: Result[Any],
                       params: Sequence[Mapping[str, Any]], shape: _Shape,
                       table: _Table) -> None:
        keys: list[tuple[Any, ...] | None] = []
        if shape.keys and isinstance(result, CursorResult):
            try:
                keys = [tuple(row) if row is not None else None
                        for row in result.inserted_primary_key_rows]
            except sa.exc.InvalidRequestError:  # several VALUES, INSERT ... SELECT
                keys = []
        if shape.keys and len(params) > 1 and not all(k and None not in k for k in keys):
            keys = [tuple(p.get(c.key, p.get(c.name)) for c in shape.keys) for p in params]
        wanted = [k for k in keys if k and None not in k][:table.spare]
        if wanted:
            found = shape.by_key(conn, wanted)
            for key in wanted:
                row = found.get(key)
                if row is not None:
                    table.list_row(RowChange(_key_value(key), "inserted", {
                        name: [None, value] for name, value in zip(shape.names, row,
                                                                   strict=True)
                        if value is not None}))
        elif not shape.keys:
            for values in params[:table.spare]:
                table.list_row(RowChange(None, "inserted", {
                    str(name): [None, value] for name, value in values.items()}))

    def _text(self, state: ORMExecuteState, statement: sa.TextClause) -> Result[Any] | None:
        found = _TEXT_DML.match(statement.text)
        if found is None:
            return None
        name = found.group(4).strip('`"[]')
        table = self._table(name)
        result = state.invoke_statement()
        rowcount = self._rowcount(result)
        counted = rowcount if rowcount >= 0 else len(self._params(state)) or 1
        if found.group(1):
            table.changes.updated += counted
        elif found.group(2):
            table.changes.deleted += counted
        else:
            table.changes.inserted += counted
        return result
