"""What a database error means for the request that met it, on every supported driver.

:func:`classify` reads the driver's own error code (PostgreSQL's SQLSTATE, MySQL's and
MariaDB's error number, SQLite's result code) and :func:`translate` turns the errors a client
or another transaction caused into flexorm's errors:

==================================  ==========================================  ======
what happened                       flexorm error                               status
==================================  ==========================================  ======
deadlock, serialization failure     :class:`~flexorm.exceptions.ConcurrencyConflict`   409
lock waited for past the timeout    :class:`~flexorm.exceptions.ConcurrencyConflict`   409
a value that does not fit a column  :class:`~flexorm.exceptions.RequestError`          400
a value naming what does not exist  :class:`~flexorm.exceptions.RequestError`          400
a constraint refused the change     :class:`~flexorm.exceptions.RequestError`          400
a trigger or function raised        :class:`~flexorm.exceptions.RequestError`          400
(``RAISE EXCEPTION``, ``SIGNAL``)
a value past one of the database's
limits (an index entry too large)   :class:`~flexorm.exceptions.RequestError`          400
a statement over MySQL's packet     :class:`~flexorm.exceptions.RequestError`          400
a statement past its time limit     :class:`~flexorm.exceptions.DatabaseTimeout`       503
the database cannot be reached      :class:`~flexorm.exceptions.DatabaseUnavailable`   503
the database takes no writes now    :class:`~flexorm.exceptions.DatabaseUnavailable`   503
(a primary turned replica)
no connection free in the pool      :class:`~flexorm.exceptions.DatabaseBusy`          503
==================================  ==========================================  ======

Anything else (a mistake in an action's SQL, a missing privilege) is left as it is. A refused
value's message names no table, column nor value; a constraint's names the constraint (or the
key, or the column) as the database does, and never a row's values: PostgreSQL's DETAIL line
and MySQL's duplicate entry are left out. A refusal raised by the database's own code (a
trigger's ``RAISE EXCEPTION 'balance cannot go below zero'``, a ``SIGNAL SQLSTATE '45000'``,
a failed ``ASSERT``) shows the first line of its message, written there for whoever meets it.
The database's own text stays in the server log.

PostgreSQL parses some values with the errors of a statement's parse (SQLSTATE class 42): a
``tsquery``, ``tsvector`` or ``jsonpath`` that is not one is a syntax error, a ``regclass``
naming no table an undefined table. Such an error is the value's fault when it points at no
place in any statement (a statement's own mistake has a position in it, or in the inner
query of a function) or when the database met it converting a bound parameter; otherwise it
is the action's SQL, a server error.

MySQL and MariaDB refuse a statement larger than ``max_allowed_packet`` by closing the
connection, with an error the driver does not always get to read. flexorm's engines refuse
such a statement before sending it (:func:`over_packet`, :func:`too_large`); one that got
through all the same is ``too_large`` when the server said so, even once the rollback after
it, finding the connection closed, raised a lost connection instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    OperationalError,
    StatementError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from flexorm.exceptions import (
    ConcurrencyConflict,
    DatabaseBusy,
    DatabaseTimeout,
    DatabaseUnavailable,
    FlexormError,
    RequestError,
    first_line,
)

__all__ = ["RETRYABLE", "Kind", "classify", "constraint_detail", "incomparable",
           "outage", "over_packet", "too_large", "translate"]

Kind = Literal["deadlock", "serialization", "lock_timeout", "too_long", "out_of_range",
               "invalid_value", "unknown_name", "charset", "constraint", "over_limit",
               "too_large", "timeout", "read_only", "unavailable", "busy"]

RETRYABLE: frozenset[Kind] = frozenset({"deadlock", "serialization"})
"""What an action declared with ``retries`` runs again after."""

_PG_STATES: dict[str, Kind] = {
    "40P01": "deadlock", "40001": "serialization", "55P03": "lock_timeout",
    "22001": "too_long", "22003": "out_of_range", "22P02": "invalid_value",
    "54000": "over_limit",  # an index entry, a row, a tsvector, a jsonb over its size limit
    "57014": "timeout",  # statement_timeout, or pg_cancel_backend
    "25006": "read_only",  # a standby, or default_transaction_read_only
    "57P01": "unavailable", "57P02": "unavailable", "57P03": "unavailable",
}
_PG_CLASSES: dict[str, Kind] = {"22": "invalid_value", "23": "constraint",
                                "P0": "constraint",  # RAISE EXCEPTION, ASSERT: the database's
                                "08": "unavailable", "53": "unavailable"}  # own refusal
_PG_VALUE_STATES: dict[str, Kind] = {
    "42601": "invalid_value", "42602": "invalid_value",  # tsquery, jsonpath...; a reg* name
    "42P01": "unknown_name", "42704": "unknown_name",  # regclass; regtype, regrole, regconfig
    "42883": "unknown_name", "42725": "unknown_name",  # regproc: none, several
    "3F000": "unknown_name",  # a reg* name in a schema that does not exist
}
"""The SQLSTATEs a data type's input raises that a statement's own mistakes raise too."""
_BOUND_PARAMETER = re.compile(r"(?<![\w$])\$\d+\b")
"""The context line of an error met converting a bound parameter (``... parameter $1``, in
the server's language)."""

_MYSQL_PACKET_TOO_LARGE = 1153
"""``Got a packet bigger than 'max_allowed_packet' bytes``: the server closes the connection
after it."""
_MYSQL_CODES: dict[int, Kind] = {
    _MYSQL_PACKET_TOO_LARGE: "too_large",
    1213: "deadlock", 1205: "lock_timeout", 1406: "too_long", 1264: "out_of_range",
    1690: "out_of_range", 1366: "invalid_value", 1292: "invalid_value", 1265: "invalid_value",
    1411: "invalid_value",  # a value a function refuses (STR_TO_DATE...)
    1416: "invalid_value",  # text in a spatial column (MariaDB says SQLSTATE 22003)
    1267: "charset", 1270: "charset", 1271: "charset",  # text compared across character sets
    3819: "constraint", 4025: "constraint",  # MySQL's and MariaDB's CHECK
    1364: "constraint",  # a NOT NULL column left without a value
    1644: "constraint",  # SIGNAL SQLSTATE '45000' (a trigger's, a procedure's refusal)
    3024: "timeout", 1969: "timeout",  # MySQL's max_execution_time, MariaDB's
    1317: "timeout",  # max_statement_time; a statement KILLed by an administrator
    1792: "read_only",  # a read-only transaction; 1290 below when it is the server's option
    1040: "unavailable", 1053: "unavailable", 1927: "unavailable", 2002: "unavailable",
    2003: "unavailable", 2005: "unavailable", 2006: "unavailable", 2013: "unavailable",
    2055: "unavailable", 4031: "unavailable",
    1044: "unavailable", 1045: "unavailable", 1049: "unavailable",  # the login refused,
    4151: "unavailable",  # the account locked, the database gone
}
_MYSQL_OPTION_PREVENTS = 1290
"""``The MariaDB server is running with the --read-only option so it cannot execute this
statement`` (or another option that prevents it)."""
_MYSQL_DUPLICATE = frozenset({1062, 1586})
"""``Duplicate entry '<the row's values>' for key '<key>'``."""
_MYSQL_DUPLICATE_VIA_FOREIGN_KEY = frozenset({1557, 1761, 1762})
"""A cascade that would duplicate a key; the message quotes the row's values."""

_SQLITE_CODES: dict[int, Kind] = {
    5: "lock_timeout", 6: "lock_timeout",  # BUSY, LOCKED
    10: "unavailable", 13: "unavailable", 14: "unavailable", 26: "unavailable",  # IOERR, FULL,
    18: "too_long",  # TOOBIG                                          CANTOPEN, NOTADB
    8: "unavailable",  # READONLY: the file is read-only, or was moved or replaced under it
}

_MESSAGES: dict[Kind, str] = {
    "deadlock": "another action was changing the same records at the same time (a deadlock); "
                "nothing was written: try again",
    "serialization": "another action changed the same records at the same time; nothing was "
                     "written: try again",
    "lock_timeout": "the records are in use by another action that is taking too long; "
                    "nothing was written: try again later",
    "too_long": "The database refused a value: it is too long for its column",
    "out_of_range": "The database refused a value: a number is out of range for its column",
    "invalid_value": "The database refused a value: it is not valid for its column's type",
    "unknown_name": "The database refused a value: it names a table, type or other object "
                    "the database does not have",
    "charset": "The database refused a value: it holds characters its column's character set "
               "cannot hold",
    "over_limit": "The database refused a value: it is larger than the database takes there",
    "too_large": "The database refused a value: with it, the statement was larger than the "
                 "database takes at once (its max_allowed_packet)",
    "timeout": "the database stopped one of the action's statements before it finished (past "
               "the time the database gives a statement, or cancelled there); nothing was "
               "written",
    "read_only": "the database takes no changes right now (it is read-only: a replica, or a "
                 "primary during a failover); nothing was written: try again shortly",
    "unavailable": "the database cannot be reached right now; try again shortly",
    "busy": "every connection to the database is in use by other requests; nothing was "
            "written: try again shortly",
}


_BUSY_HINT = "; more connections: raise pool_size or max_overflow"
"""Told whoever runs the server (the log), not the client."""


def _mysql_args(origin: BaseException) -> tuple[int, str] | None:
    """PyMySQL's, aiomysql's and mysqlclient's ``(errno, message)``."""
    args: tuple[Any, ...] = origin.args
    if args and isinstance(args[0], int):
        return args[0], str(args[1]) if len(args) > 1 else ""
    return None


def _pg_value_kind(origin: BaseException, state: str) -> Kind | None:
    """The kind of a PostgreSQL name or syntax error that a value caused, else ``None``."""
    kind = _PG_VALUE_STATES.get(state)
    diag = getattr(origin, "diag", None)  # psycopg's
    if kind is None or diag is None:
        return None
    context: str | None = diag.context
    lines = context.strip().splitlines() if context else []
    if lines and _BOUND_PARAMETER.search(lines[-1]):
        return kind
    if diag.statement_position is None and diag.internal_position is None:
        return kind
    return None


def classify(exc: BaseException) -> Kind | None:
    """What ``exc`` (a SQLAlchemy error wrapping a driver's, or the pool's wait for a
    connection given up) means, or ``None``: something else (a programming error)."""
    kind = _kind(exc)
    if kind == "unavailable" and _after_packet_refused(exc):
        return "too_large"
    return kind


def _kind(exc: BaseException) -> Kind | None:
    if isinstance(exc, PoolTimeout):
        return "busy"
    if not isinstance(exc, StatementError):
        return None
    origin = exc.orig
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return "unavailable"
    if isinstance(origin, OverflowError):  # SQLite: an integer wider than 64 bits
        return "out_of_range"
    if origin is None or not isinstance(exc, DBAPIError):
        return None
    mysql = _mysql_args(origin)  # PyMySQL, aiomysql: (errno, message)
    if mysql is not None and mysql[0] == _MYSQL_OPTION_PREVENTS and "read" in mysql[1]:
        return "read_only"  # --read-only, --super-read-only (not another option's refusal)
    if mysql is not None and mysql[0] in _MYSQL_CODES:
        return _MYSQL_CODES[mysql[0]]
    if isinstance(exc, IntegrityError):
        return "constraint"
    code = getattr(origin, "sqlite_errorcode", None)  # sqlite3
    if isinstance(code, int):
        return _SQLITE_CODES.get(code & 0xFF)
    state = getattr(origin, "sqlstate", None)  # psycopg, asyncpg; PyMySQL too
    if isinstance(state, str) and len(state) == 5:
        return (_PG_STATES.get(state) or _PG_CLASSES.get(state[:2])
                or _pg_value_kind(origin, state))
    if hasattr(origin, "sqlstate") and mysql is None and isinstance(exc, OperationalError):
        return "unavailable"  # psycopg without a SQLSTATE: the server never answered
    if isinstance(exc, DataError):
        return "invalid_value"
    return None


def _after_packet_refused(exc: BaseException) -> bool:
    """Whether ``exc`` was raised while handling MySQL's refusal of a statement over its
    packet size (the rollback after it finds the connection closed)."""
    seen = 0
    context = exc.__context__
    while context is not None and seen < 8:
        origin = context.orig if isinstance(context, StatementError) else context
        mysql = _mysql_args(origin) if origin is not None else None
        if mysql is not None and mysql[0] == _MYSQL_PACKET_TOO_LARGE:
            return True
        context, seen = context.__context__, seen + 1
    return False


def over_packet(statement: str, parameters: Any, limit: int, *, many: bool = False) -> bool:
    """Whether MySQL's drivers would send ``statement`` with ``parameters`` (they write the
    values into its text, escaped) as more than ``limit`` bytes. ``many``: an
    ``executemany``, whose rows the drivers send in statements of their own size, so its
    largest row counts. The values are measured as they are; only when escaping could take
    that past ``limit`` (it at most doubles them), as they are sent."""
    rows = parameters if many and isinstance(parameters, list | tuple) else [parameters]
    size = len(statement) + max(map(_bytes, rows), default=0)
    if size * 2 < limit:
        return False
    if size >= limit:
        return True
    escaped = len(statement) + max((_bytes(row, escaped=True) for row in rows), default=0)
    return escaped >= limit


_ESCAPED = ("\\", "'", '"', "\0", "\n", "\r", "\x1a")
"""What MySQL's drivers write as two characters in a statement."""
_ESCAPED_BYTES = tuple(c.encode() for c in _ESCAPED)


def _bytes(value: Any, *, escaped: bool = False) -> int:
    """The bytes ``value`` takes in a statement's text, at least (text as UTF-8, ``NULL`` left
    out); ``escaped``: with its escapes and quotes."""
    if isinstance(value, str):
        size = len(value) if value.isascii() else len(value.encode("utf-8", "replace"))
        return size + 2 + sum(map(value.count, _ESCAPED)) if escaped else size
    if isinstance(value, bytes | bytearray):
        return len(value) + 9 + sum(map(value.count, _ESCAPED_BYTES)) if escaped \
            else len(value)
    if isinstance(value, memoryview):
        return _bytes(value.tobytes(), escaped=escaped) if escaped else value.nbytes
    if isinstance(value, Mapping):
        return sum(_bytes(item, escaped=escaped) for item in value.values())
    if isinstance(value, list | tuple):
        return sum(_bytes(item, escaped=escaped) for item in value)
    return 1 if value is not None else 0


def too_large() -> RequestError:
    """The refusal of a statement larger than MySQL's or MariaDB's ``max_allowed_packet``."""
    return RequestError(_MESSAGES["too_large"])


def incomparable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database has no operator to compare or order values of a type
    (PostgreSQL's ``point``, ``polygon``, ``xml``: ``=`` and ``ORDER BY`` are refused)."""
    origin = exc.orig if isinstance(exc, StatementError) else None
    return (origin is not None and getattr(origin, "sqlstate", None) == "42883"
            and _mysql_args(origin) is None)


def constraint_detail(exc: BaseException) -> str:
    """What the user is told of the constraint that refused a change: the first line of the
    database's message, the row's values left out.

    Examples:
        >>> constraint_detail(ValueError(1062, "Duplicate entry 'b@x' for key 'email'"))
        "Duplicate entry for key 'email'"
        >>> constraint_detail(ValueError('duplicate key value violates unique constraint "k"'
        ...                              "\\nDETAIL:  Key (email)=(b@x) already exists."))
        'duplicate key value violates unique constraint "k"'
    """
    origin = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    mysql = _mysql_args(origin)
    if mysql is None:
        return first_line(origin, "a constraint failed")
    errno, message = mysql
    if errno in _MYSQL_DUPLICATE:
        _, found, key = first_line(message).rpartition(" for key ")
        return f"Duplicate entry for key {key}" if found and key else "Duplicate entry"
    if errno in _MYSQL_DUPLICATE_VIA_FOREIGN_KEY:
        return "A foreign key's cascade would lead to a duplicate entry"
    return first_line(message, "a constraint failed")


def translate(exc: BaseException, kind: Kind | None = None) -> FlexormError | None:
    """flexorm's error for ``exc``, or ``None`` when it stays as it is."""
    kind = kind if kind is not None else classify(exc)
    if kind is None:
        return None
    if kind == "constraint":
        return RequestError(f"The database refused the change: {constraint_detail(exc)}")
    if kind == "over_limit":  # which limit: "index row size 10016 exceeds ... for index "k""
        origin = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
        return RequestError(f"{_MESSAGES[kind]} ({first_line(origin, 'a size limit')})")
    message = _MESSAGES[kind]
    if kind == "deadlock" or kind == "serialization" or kind == "lock_timeout":
        return ConcurrencyConflict(message, reason=kind)
    if kind == "unavailable" or kind == "read_only":
        return DatabaseUnavailable(message)
    if kind == "busy":
        return DatabaseBusy(message)
    if kind == "timeout":
        return DatabaseTimeout(message)
    return RequestError(message)


def outage(exc: BaseException) -> str | None:
    """One line saying why the database could not be reached, when that is what ``exc`` means
    (an expected failure, logged without a traceback: an outage would otherwise write hundreds
    of lines a request); else ``None``."""
    if isinstance(exc, DatabaseUnavailable):
        cause = exc.__cause__
        line = f"{exc.message} ({first_line(cause)})" if cause is not None else exc.message
        return line + _BUSY_HINT if isinstance(exc, DatabaseBusy) else line
    kind = classify(exc)
    if kind == "busy":
        return f"{_MESSAGES['busy']} ({first_line(exc)}){_BUSY_HINT}"
    if kind == "unavailable" or kind == "read_only":
        origin = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
        return f"{_MESSAGES[kind]} ({first_line(origin, type(origin).__name__)})"
    return None
