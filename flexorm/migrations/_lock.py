"""One migrator at a time: a connection holding a database-wide migration lock.

- PostgreSQL: a session-level ``pg_advisory_lock`` on a fixed key, released on exit.
- SQLite: ``BEGIN IMMEDIATE``, which holds the database's write lock until the migration's
  transaction commits (SQLite's DDL is transactional, so the migration runs inside it).
- Other databases: no lock; concurrent starters should not use ``auto_upgrade`` there.

Whoever waited re-reads the revision under the lock and finds nothing left to do.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection
from sqlalchemy.pool import NullPool

__all__ = ["LOCK_KEY", "migration_connection"]

LOCK_KEY = int.from_bytes(hashlib.sha256(b"flexorm migrations").digest()[:8], "big", signed=True)
"""The ``pg_advisory_lock`` key flexorm's migrations hold (a signed 64-bit integer)."""

_SQLITE_WAIT_SECONDS = 120.0


@contextlib.contextmanager
def migration_connection(url: URL) -> Iterator[Connection]:
    """A blocking connection to ``url`` holding the migration lock; committed on a clean exit,
    rolled back on an error, lock released either way."""
    backend = url.get_backend_name()
    connect_args = {"timeout": _SQLITE_WAIT_SECONDS} if backend == "sqlite" else {}
    engine = sa.create_engine(url, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            if backend == "postgresql":
                with _advisory_lock(conn):
                    yield from _transaction(conn)
            else:
                if backend == "sqlite":
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                yield from _transaction(conn)
    finally:
        engine.dispose()


def _transaction(conn: Connection) -> Iterator[Connection]:
    try:
        yield conn
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


@contextlib.contextmanager
def _advisory_lock(conn: Connection) -> Iterator[None]:
    conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
    conn.commit()  # the lock belongs to the session, not to this transaction
    try:
        yield
    finally:
        conn.rollback()
        conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
        conn.commit()
