"""Whether a row an action answers with shows what was saved, and reading back those that do
not (:func:`read_back_stale`, before the answer is encoded).

A row is read back when the database computes some of its columns anew (a generated column, a
row trigger on its table: every new or changed row of such a table), or when the body set a
column to a value the database keeps otherwise. A value is kept as it was
set when the column's type holds it exactly (text in a text column, an integer in an integer
column, a date in a date column...). Otherwise the database converts it, and only it knows
into what:

- a ``NUMERIC(p, s)`` value with more than ``s`` decimal places, or a float in a ``NUMERIC`` or
  integer column, is rounded (and ``Decimal("1E+2")`` is kept as ``100.00``);
- a datetime or time with more fractional digits than the column keeps is rounded (MySQL's
  ``DATETIME`` keeps none unless declared with some, PostgreSQL's ``timestamp(0)`` none);
- a datetime with a time zone in a column without one, or the reverse, is converted;
- text in a ``CHAR(n)`` column shorter than ``n`` is padded (PostgreSQL) and trailing blanks
  are stripped (MySQL), and ``True`` in MySQL's ``BOOLEAN`` (a ``TINYINT``) reads as ``1``;
- text in a column of another type is parsed (a range ``'[1,5]'`` is stored ``[1,6)``, an
  address ``'10.0.0.1/32'`` as ``10.0.0.1``), and so is any value of a type flexorm does not
  know (PostgreSQL's geometric types, ranges, custom types).

Rows whose changes all fit their columns, what actions almost always write, are not read back:
an answer costs no statement more. A row the body flushed itself (or that a query of its
flushed first) has no changes left to tell by the time of the answer: its flush notes it, when
it is to be read back (:func:`track_flushed`).
"""

from __future__ import annotations

import datetime as dt
import uuid
import weakref
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.types import TypeEngine

from flexorm.database import RunSession
from flexorm.reflection.typemap import base_type

__all__ = ["Triggered", "flush_unnoted", "read_back_stale", "stored_otherwise",
           "track_flushed"]

_MICRO = 6
_READ_BACK_CHUNK = 1000


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) else 0


def _fraction_fits(type_: TypeEngine[Any], value: dt.datetime | dt.time) -> bool:
    """Whether the column keeps every fractional digit of ``value``'s seconds."""
    if not value.microsecond:
        return True
    fsp = getattr(type_, "fsp", _MICRO)  # MySQL's types: ``None`` keeps none
    declared = getattr(type_, "precision", None) if fsp == _MICRO else (fsp or 0)
    digits: int = _MICRO if declared is None else min(int(declared), _MICRO)
    return bool(value.microsecond % 10 ** (_MICRO - digits) == 0)


def _timezone_fits(type_: TypeEngine[Any], value: dt.datetime | dt.time) -> bool:
    return (value.tzinfo is not None) == bool(getattr(type_, "timezone", False))


def _kept(type_: TypeEngine[Any], value: Any) -> bool:
    """Whether a column of ``type_`` keeps ``value`` as it is."""
    if value is None:
        return True
    if isinstance(type_, sa.CHAR | sa.NCHAR):  # padded (PostgreSQL) or stripped (MySQL)
        return isinstance(value, str) and not value.endswith(" ") \
            and (type_.length is None or len(value) == type_.length)
    if isinstance(type_, sa.String):  # text, enums, MySQL's SET
        return isinstance(value, str | set | frozenset)
    if isinstance(type_, sa.Boolean):
        return isinstance(value, bool | int)
    if isinstance(type_, sa.Integer):  # True in MySQL's BOOLEAN, a TINYINT, reads as 1
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(type_, sa.Float):
        return isinstance(value, int | float)
    if isinstance(type_, sa.Numeric):
        if isinstance(value, Decimal):  # 1E+2 is kept as 100.00
            places = _places(value)
            return not value.is_finite() or (
                places >= 0 and (type_.scale is None or places <= type_.scale))
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(type_, sa.DateTime):
        return isinstance(value, dt.datetime) and _fraction_fits(type_, value) \
            and _timezone_fits(type_, value)
    if isinstance(type_, sa.Date):
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if isinstance(type_, sa.Time):
        if isinstance(value, dt.timedelta):  # MySQL's TIME, a duration
            return _fraction_fits(type_, dt.time(microsecond=value.microseconds))
        return isinstance(value, dt.time) and _fraction_fits(type_, value) \
            and _timezone_fits(type_, value)
    if isinstance(type_, sa.Interval):
        return isinstance(value, dt.timedelta)
    if isinstance(type_, sa.LargeBinary):
        return isinstance(value, bytes)
    if isinstance(type_, sa.Uuid):
        return isinstance(value, uuid.UUID)
    if isinstance(type_, sa.JSON | sa.ARRAY):
        return not isinstance(value, str)
    return False  # a type flexorm does not know: the database says what it keeps


_TYPES: weakref.WeakKeyDictionary[Mapper[Any], tuple[tuple[str, TypeEngine[Any]], ...]] = (
    weakref.WeakKeyDictionary())
"""Per mapped class (kept no longer than its mapper): each column attribute and its type."""


def _column_types(mapper: Mapper[Any]) -> tuple[tuple[str, TypeEngine[Any]], ...]:
    found = _TYPES.get(mapper)
    if found is None:
        found = _TYPES[mapper] = tuple((attr.key, base_type(attr.columns[0].type))
                                       for attr in mapper.column_attrs)
    return found


def stored_otherwise(row: Any) -> bool:
    """Whether the action set a column of ``row`` to a value the database keeps otherwise (see
    the module's rules): what the row holds is then not what was saved."""
    state = sa.inspect(row, raiseerr=False)
    if not isinstance(state, sa.orm.InstanceState) or not (state.modified or state.pending) \
            or state.deleted or state.detached:
        return False
    unmodified = state.unmodified
    for key, type_ in _column_types(state.mapper):
        if key not in unmodified \
                and not all(_kept(type_, value) for value in state.attrs[key].history.added):
            return True
    return False


Triggered = Callable[[sa.orm.Mapper[Any]], bool]
"""Whether row triggers may change the rows of a mapped class's table when they are inserted or
updated (:meth:`~flexorm.actions._rows.RowClasses.triggered`)."""


_WRITTEN = "flexorm_flushed_stale_rows"
"""``Session.info`` key: the states of the rows a flush of the body wrote that do not show what
was saved (:func:`track_flushed`)."""
_UNNOTED = "flexorm_unnoted_flush"
"""``Session.info`` key, set while flexorm flushes for itself (:func:`flush_unnoted`)."""


def _changed_by_database(row: Any, session: Session) -> bool:
    """Whether ``row`` is new or changed, and the database computes its columns anew on insert
    or update: a generated column, or a row trigger on its table. Until it is read back, it
    shows what the body set, not what the database saved; so does a row the body flushed
    itself, set to values the database keeps otherwise or in such a table
    (:func:`track_flushed`), or whose generated columns the ORM expired."""
    state = sa.inspect(row, raiseerr=False)
    if not isinstance(state, sa.orm.InstanceState):
        return False
    if state in session.info.get(_WRITTEN, ()):
        return True
    if not (state.pending or state.modified or state.expired_attributes):
        return False
    triggered: Triggered | None = session.info.get(_TRACKING)
    return _has_generated(state.mapper) or (triggered is not None and triggered(state.mapper))


_TRACKING = "flexorm_triggered"
"""``Session.info`` key: the run's :data:`Triggered`, while its flushes are noted."""


def track_flushed(info: dict[Any, Any], triggered: Triggered) -> None:
    """From now on, note the rows each flush of the body's (an explicit one, or one a query
    sends first) inserts or updates that will not show what was saved: set to values the
    database keeps otherwise (:func:`stored_otherwise`, told while their changes are still
    known), or in tables with row triggers, which may have changed any of their columns. They
    are read back before the answer. They are not expired: a body reading them after its own
    flush (an async one too, which could not load them again lazily) reads what it set.

    ``info``: the run's session's (an async session's is its blocking one's); a listener on
    :class:`~flexorm.database.RunSession`, added once, reads it at each flush."""
    info[_TRACKING] = triggered


@sa.event.listens_for(RunSession, "after_flush")
def _note_flushed(session: Session, _context: Any) -> None:
    triggered: Triggered | None = session.info.get(_TRACKING)
    if triggered is None or session.info.get(_UNNOTED):
        return
    written: set[sa.orm.InstanceState[Any]] = session.info.setdefault(_WRITTEN, set())
    for row in (*session.new, *session.dirty):  # still what the flush wrote
        state = sa.inspect(row)
        if triggered(state.mapper) or stored_otherwise(row):
            written.add(state)


def flush_unnoted(session: Session) -> None:
    """Flush for flexorm's own sake, after the answer's rows were read (nothing to note)."""
    session.info[_UNNOTED] = True
    try:
        session.flush()
    finally:
        session.info.pop(_UNNOTED, None)


_GENERATED: weakref.WeakKeyDictionary[sa.orm.Mapper[Any], bool] = weakref.WeakKeyDictionary()
"""Per mapped class (kept no longer than its mapper): whether any column is generated."""


def _has_generated(mapper: sa.orm.Mapper[Any]) -> bool:
    found = _GENERATED.get(mapper)
    if found is None:
        found = _GENERATED[mapper] = any(column.server_onupdate is not None
                                         for column in mapper.columns)
    return found


def _read_back(session: Session, rows: list[Any]) -> None:
    """Flush, then reload ``rows`` from the database (one SELECT per class and chunk)."""
    flush_unnoted(session)
    by_class: dict[type[Any], list[Any]] = {}
    for row in rows:
        by_class.setdefault(type(row), []).append(row)
    for cls, group in by_class.items():
        mapper: sa.orm.Mapper[Any] = sa.inspect(cls)
        columns = mapper.primary_key
        keys = [mapper.identity_key_from_instance(row)[1] for row in group]
        for start in range(0, len(keys), _READ_BACK_CHUNK):
            chunk = keys[start:start + _READ_BACK_CHUNK]
            where = (columns[0].in_([key[0] for key in chunk]) if len(columns) == 1
                     else sa.tuple_(*columns).in_(chunk))
            session.execute(sa.select(cls).where(where)
                            .execution_options(populate_existing=True)).all()


def read_back_stale(session: Session, rows: list[Any] | tuple[Any, ...]) -> None:
    """Read back those of ``rows`` (an answer's values) that do not show what was saved: set
    to values the database keeps otherwise (:func:`stored_otherwise`), or new or changed in a
    table whose generated columns or row triggers the database runs (as the run told
    :func:`track_flushed`)."""
    stale = [row for row in rows
             if stored_otherwise(row) or _changed_by_database(row, session)]
    if stale:
        _read_back(session, stale)
