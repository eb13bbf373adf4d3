"""A run's transaction and the connection it begins on.

flexorm's sessions (:class:`~flexorm.database.RunSession`) have one ``after_begin`` listener,
added once: it notes in the session's ``info`` that the run's transaction holds a connection
(:func:`began`), and puts a background run's control on that connection (:func:`watch`): its
statement check, so that the run stops at its next statement once it is to stop; on
PostgreSQL, a statement timeout at the run's deadline; and the connection's id in the server,
by which a stop cancels the statement running (PostgreSQL, MySQL, MariaDB), or SQLite's
interrupt.

A background run begins its transaction with its first statement: a body that sends none
takes no connection at all, and its end is written alone, after it (see
:class:`~flexorm.actions._background.Completion`).
"""

from __future__ import annotations

import math
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from flexorm.actions.run_control import RunControl
from flexorm.database import STATEMENT_CHECK, RunSession

__all__ = ["began", "watch"]

_BEGUN = "flexorm_begun"
"""``Session.info`` key: the session's transaction has begun on a connection."""
_CONTROL = "flexorm_control"
"""``Session.info`` key: the background run's control, put on the connection its transaction
begins on."""


def began(session: Session) -> bool:
    """Whether ``session``'s transaction has begun on a connection (sent, or is about to send,
    a statement)."""
    return _BEGUN in session.info


def watch(session: Session, control: RunControl) -> None:
    """Put ``control`` on the connection ``session``'s transaction begins on (now, if it has
    begun)."""
    session.info[_CONTROL] = control
    if began(session):
        _watch_connection(session.connection(), control)


@sa.event.listens_for(RunSession, "after_begin")
def _begun(session: Session, _transaction: Any, connection: Connection) -> None:
    session.info[_BEGUN] = True
    control: RunControl | None = session.info.get(_CONTROL)
    if control is not None:
        _watch_connection(connection, control)


def _watch_connection(conn: Connection, control: RunControl) -> None:
    """Stop a background run at its next statement on ``conn`` once it is to stop; on
    PostgreSQL, no statement outlives its deadline; on PostgreSQL, MySQL and MariaDB, a stop
    (a cancel, the deadline) cancels the running statement, by the connection's id in the
    server; on SQLite, by its interrupt."""
    conn.execution_options(**{STATEMENT_CHECK: control.check})
    driver = conn.connection.driver_connection
    dialect = conn.dialect.name
    if dialect == "postgresql":
        remaining = control.remaining()
        if remaining is not None:
            conn.exec_driver_sql(  # rounded up: it fires past the deadline, not before
                f"SET LOCAL statement_timeout = {max(1, math.ceil(remaining * 1000))}")
        control.backend_pid = getattr(getattr(driver, "info", None), "backend_pid", None)
    elif dialect in ("mysql", "mariadb"):
        thread_id = getattr(driver, "thread_id", None)  # PyMySQL's, aiomysql's: no query
        value = thread_id() if callable(thread_id) else thread_id
        control.backend_pid = value if isinstance(value, int) else None
    elif dialect == "sqlite":
        control.interrupt = getattr(driver, "interrupt", None)
