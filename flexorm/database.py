"""The two engines flexorm keeps for one database.

Async action bodies and the server's own queries use the async engine (aiosqlite, psycopg).
Sync action bodies run in a worker thread, off the event loop, with a blocking session from the
sync engine (pysqlite, psycopg), so a slow body never stalls other requests.

Transactions and locks:

- SQLite: Python's ``sqlite3`` module begins a transaction only before the first write, so the
  reads of a transaction would run outside it. flexorm takes over ``BEGIN`` (SQLAlchemy's
  documented recipe for pysqlite and aiosqlite): every transaction begins with its first
  statement, and one opened with :data:`WRITE` begins with ``BEGIN IMMEDIATE``, taking the
  database's write lock before it reads anything, so writing actions run one after another.
- MySQL and MariaDB close the connection of a statement larger than their
  ``max_allowed_packet``, which a driver may report as the database gone: each connection
  reads that limit once, and a statement over it is refused before it is sent, as a value the
  database cannot take (a 400), the connection left open.
- Waiting for a lock is bounded by ``lock_timeout`` seconds on every database (SQLite's busy
  timeout, PostgreSQL's ``lock_timeout``, MySQL's and MariaDB's
  ``innodb_lock_wait_timeout``); past it the statement fails, and the request answers 409.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, NullPool, QueuePool, create_engine, event, select
from sqlalchemy.engine import URL, Connection, ExceptionContext
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker

from flexorm._liveness import PINGLESS_DRIVERS, check_on_checkout
from flexorm._url import async_url, parse_url, sync_url
from flexorm.db_errors import over_packet, too_large
from flexorm.exceptions import DatabaseError

__all__ = ["STATEMENT_CHECK", "WRITE", "Database", "RunSession", "packet_limit", "pooled",
           "require_sqlite_file", "run_blocking"]

T = TypeVar("T")
E = TypeVar("E", Engine, AsyncEngine)

WRITE: dict[str, Any] = {"flexorm_writes": True}
"""Execution options of a transaction that will write: on SQLite it begins ``IMMEDIATE``."""

STATEMENT_CHECK = "flexorm_statement_check"
"""Execution option of a connection: called before each of its statements (a background run
raises there once it is to stop). Read by a listener each engine gets once, so that a run sets
it on its connection instead of adding a listener of its own per run."""

POOL_SIZE = 5
MAX_OVERFLOW = 10
"""SQLAlchemy's own defaults for a pool's size and overflow."""

PING_TIMEOUT = 5.0
"""Seconds ``/health`` waits for the database to answer."""

DEFAULT_LOCK_TIMEOUT = 10.0
"""Seconds a statement waits for a lock another transaction holds."""


def pooled(create: Callable[..., E], url: URL, **options: Any) -> E:
    """An engine whose pool hands out only open connections: checked without a round trip on
    psycopg (:mod:`flexorm._liveness`), pinged on other drivers; on MySQL and MariaDB, one
    that refuses a statement over ``max_allowed_packet`` before sending it."""
    pingless = url.get_driver_name() in PINGLESS_DRIVERS
    engine = create(url, pool_pre_ping=not pingless, **options)
    blocking = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    if pingless:
        check_on_checkout(blocking)
    if url.get_backend_name() == "sqlite":
        _sqlite_file_as_it_is(blocking)
    if url.get_backend_name() in ("mysql", "mariadb"):
        _packet_checks(blocking)
    return engine


_SQLITE_READONLY = 8
"""SQLite's primary result code for a write to a file it has open read-only: the file was
read-only when opened, or was moved, replaced or deleted since (``SQLITE_READONLY_DBMOVED``)."""


def _sqlite_file_as_it_is(engine: Engine) -> None:
    """Connections to a SQLite file follow the file: one is opened read-write without creating
    it (a file deleted or moved away is "cannot open", a 503 until it is back, never a new
    empty database), and the pool drops its connections when SQLite says the file they have
    open went read-only or was replaced (a backup restored, permissions fixed): the next
    request opens the file as it is now."""

    @event.listens_for(engine, "do_connect")
    def _no_create(_dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
        path = (_file_path(cargs[0]) if cargs and isinstance(cargs[0], str)
                and not cparams.get("uri") else None)
        if path is not None:
            cargs[0] = f"file:{urllib.parse.quote(os.path.abspath(path))}?mode=rw"
            cparams["uri"] = True

    @event.listens_for(engine, "handle_error")
    def _reopen(context: ExceptionContext) -> None:
        code = getattr(context.original_exception, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF == _SQLITE_READONLY:
            context.is_disconnect = True
            # SQLAlchemy leaves a disconnected cursor open, and SQLite closes a connection
            # with a statement still open only once that is collected: until then it would
            # hold its transaction's lock on the file, which may be back under its name
            execution = context.execution_context
            if execution is not None and execution.cursor is not None:
                with contextlib.suppress(Exception):
                    execution.cursor.close()


def _file_path(database: str | None) -> Path | None:
    """The file a SQLite database name is, or ``None`` for an in-memory database or a
    ``file:`` URI (those say for themselves how they are opened)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def require_sqlite_file(url: str | URL) -> None:
    """Refuse a SQLite path that does not exist: connecting would create an empty database.

    flexorm serves existing databases, so a missing file is a typo in the path, not a wish.
    In-memory and ``file:`` URI databases pass.

    Raises:
        DatabaseError: the URL names a SQLite file that does not exist.
    """
    parsed = parse_url(url)
    if parsed.get_backend_name() != "sqlite":
        return
    path = _file_path(parsed.database)
    if path is not None and not path.is_file():
        raise DatabaseError(f"no SQLite database at {parsed.database}")


def _sqlite_file(engine: AsyncEngine) -> bool:
    database = engine.url.database or ""
    return (engine.dialect.name == "sqlite" and database not in ("", ":memory:")
            and engine.url.query.get("mode") != "memory")


async def run_blocking(engine: AsyncEngine, work: Callable[[Connection], T]) -> T:
    """Run ``work`` with a blocking connection to the engine's database, off the event loop.

    For a SQLite file, the connection is pysqlite's, in a worker thread: SQLAlchemy reflects
    SQLite with several ``PRAGMA`` queries per table, and through aiosqlite every one of them is
    a round trip between the event loop and aiosqlite's thread (at 1,000 tables, about 2.4 s
    instead of 0.35 s). Other databases use the async engine's own connection (``run_sync``).
    """
    if not _sqlite_file(engine):
        async with engine.connect() as conn:
            return await conn.run_sync(work)

    def on_own_connection() -> T:
        blocking = create_engine(sync_url(engine.url), poolclass=NullPool)
        try:
            with blocking.connect() as conn:
                return work(conn)
        finally:
            blocking.dispose()

    return await asyncio.to_thread(on_own_connection)


def _lock_wait(backend: str, seconds: float, url: URL) -> dict[str, Any]:
    """Connection arguments bounding how long a statement waits for a lock (a setting the URL
    already makes is left alone)."""
    if backend == "sqlite" and "timeout" not in url.query:
        return {"timeout": seconds}
    if backend == "postgresql" and "options" not in url.query:
        return {"options": f"-c lock_timeout={max(1, round(seconds * 1000))}"}
    if backend in ("mysql", "mariadb") and "init_command" not in url.query:
        return {"init_command":
                f"SET SESSION innodb_lock_wait_timeout = {max(1, round(seconds))}"}
    return {}


def _begin_explicitly(engine: Engine) -> None:
    """SQLAlchemy's recipe for SQLite transactions that include their reads: the driver
    starts none on its own, SQLAlchemy emits ``BEGIN`` (``BEGIN IMMEDIATE`` under
    :data:`WRITE`)."""

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("flexorm_writes", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _statement_checks(engine: Engine) -> None:
    """Call a connection's :data:`STATEMENT_CHECK`, when it has one, before each statement."""

    @event.listens_for(engine, "before_cursor_execute")
    def _check(conn: Connection, *_: Any) -> None:
        check = conn.get_execution_options().get(STATEMENT_CHECK)
        if check is not None:
            check()


_PACKET_LIMIT = "flexorm_max_allowed_packet"
"""Where a MySQL or MariaDB connection keeps its ``max_allowed_packet``."""


def _packet_checks(engine: Engine) -> None:
    """MySQL and MariaDB: each connection reads its ``max_allowed_packet`` once; a statement
    over it is refused before it is sent (:func:`~flexorm.db_errors.too_large`)."""

    @event.listens_for(engine, "connect")
    def _read_limit(dbapi_connection: Any, record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT @@max_allowed_packet")
            row = cursor.fetchone()
        except engine.dialect.loaded_dbapi.Error:  # a server without it: nothing is checked
            return
        finally:
            cursor.close()
        if row is not None and isinstance(row[0], int | str) and str(row[0]).isdigit():
            record.info[_PACKET_LIMIT] = int(row[0])

    @event.listens_for(engine, "before_cursor_execute")
    def _check(conn: Connection, _cursor: Any, statement: str, parameters: Any,
               _context: Any, executemany: bool) -> None:
        limit = conn.info.get(_PACKET_LIMIT)
        if limit is not None and over_packet(statement, parameters, limit, many=executemany):
            raise too_large()


async def packet_limit(engine: AsyncEngine) -> int | None:
    """MySQL's or MariaDB's ``max_allowed_packet`` as ``engine``'s connections read it when
    they open (:func:`pooled`); ``None`` on another database, or one that did not say."""
    if engine.dialect.name not in ("mysql", "mariadb"):
        return None
    async with engine.connect() as conn:
        limit = conn.info.get(_PACKET_LIMIT)
    return limit if isinstance(limit, int) else None


class RunSession(Session):
    """The class of flexorm's sessions (an async session's own blocking one too): the session
    events flexorm listens for, once per process, attach to it rather than to every
    ``Session`` of the process."""


@dataclass
class _Ping:
    """The query :meth:`Database.reachable` has in flight, shared by the callers that ask
    while it is (at most one at a time: a database that does not answer gets no pile of
    them)."""

    task: asyncio.Task[bool] | None = None


def _retrieved(task: asyncio.Task[bool]) -> None:
    """A ping given up on may end in an error while it closes its connection: read, so that it
    is not reported as never retrieved."""
    if not task.cancelled():
        task.exception()


@dataclass(frozen=True)
class Database:
    """The engines and session factories of one database URL."""

    url: URL
    engine: AsyncEngine
    sync_engine: Engine
    sessions: async_sessionmaker[AsyncSession]
    sync_sessions: sessionmaker[Session]
    connections: int = POOL_SIZE + MAX_OVERFLOW
    """The most connections each engine opens (its pool's size and overflow)."""
    _ping: _Ping = field(default_factory=_Ping, init=False, repr=False, compare=False)

    @classmethod
    def connect(cls, url: str | URL, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
                pool: Mapping[str, Any] | None = None) -> Database:
        """Create the engines (lazily: nothing connects until the first query); ``pool``:
        ``create_engine``'s arguments sizing each engine's pool (``Settings.pool_options``)."""
        parsed = parse_url(url)
        backend = parsed.get_backend_name()
        sizing = dict(pool or {})
        engine = pooled(create_async_engine, async_url(parsed),
                        connect_args=_lock_wait(backend, lock_timeout, parsed), **sizing)
        sync_engine = pooled(create_engine, sync_url(parsed),
                             connect_args=_lock_wait(backend, lock_timeout, parsed), **sizing)
        if backend == "sqlite":
            _begin_explicitly(engine.sync_engine)
            _begin_explicitly(sync_engine)
        _statement_checks(engine.sync_engine)
        _statement_checks(sync_engine)
        return cls(
            url=parsed,
            engine=engine,
            sync_engine=sync_engine,
            sessions=async_sessionmaker(engine, expire_on_commit=False,
                                        sync_session_class=RunSession),
            sync_sessions=sessionmaker(sync_engine, class_=RunSession, expire_on_commit=False),
            connections=(int(sizing.get("pool_size", POOL_SIZE))
                         + int(sizing.get("max_overflow", MAX_OVERFLOW))),
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def busy(self) -> bool:
        """Whether every connection the async engine may open is in use (requests wait for one
        to come back), told without waiting for one."""
        pool = self.engine.sync_engine.pool
        return isinstance(pool, QueuePool) and pool.checkedout() >= self.connections

    async def reachable(self, timeout: float = PING_TIMEOUT) -> bool:
        """Whether the database answers a query within ``timeout`` seconds (a SQLite file: and
        is still where it was; a connection open on a file moved away still reads it).

        The answer comes within ``timeout`` even from a server that stopped answering on an
        open connection (a frozen process, a network that drops packets): the query given up
        on is cancelled and its connection closed in the background, which the driver may take
        longer over; until it has, the database counts as unreachable without another query.
        """
        path = _file_path(self.url.database) if self.dialect == "sqlite" else None
        if path is not None and not path.is_file():
            return False
        task = self._ping.task
        if task is None or task.done():
            task = self._ping.task = asyncio.ensure_future(self._answers())
            task.add_done_callback(_retrieved)
        elif task.cancelling():
            return False
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            task.cancel()
            return False
        return not task.cancelled() and task.result()

    async def _answers(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.scalar(select(1))
        except (OSError, SQLAlchemyError):
            return False
        return True

    async def dispose(self) -> None:
        task = self._ping.task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)
        await self.engine.dispose()
        self.sync_engine.dispose()
