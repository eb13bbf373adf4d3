"""The two engines flexorm keeps for one database.

Async action bodies and the server's own queries use the async engine (aiosqlite, psycopg).
Sync action bodies run in a worker thread, off the event loop, with a blocking session from the
sync engine (pysqlite, psycopg), so a slow body never stalls other requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, NullPool, create_engine
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker

from flexorm._url import async_url, parse_url, sync_url
from flexorm.exceptions import DatabaseError

__all__ = ["Database", "require_sqlite_file", "run_blocking"]

T = TypeVar("T")


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
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    if not Path(database).is_file():
        raise DatabaseError(f"no SQLite database at {database}")


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


@dataclass(frozen=True)
class Database:
    """The engines and session factories of one database URL."""

    url: URL
    engine: AsyncEngine
    sync_engine: Engine
    sessions: async_sessionmaker[AsyncSession]
    sync_sessions: sessionmaker[Session]

    @classmethod
    def connect(cls, url: str | URL) -> Database:
        """Create the engines (lazily: nothing connects until the first query)."""
        parsed = parse_url(url)
        engine = create_async_engine(async_url(parsed), pool_pre_ping=True)
        sync_engine = create_engine(sync_url(parsed), pool_pre_ping=True)
        return cls(
            url=parsed,
            engine=engine,
            sync_engine=sync_engine,
            sessions=async_sessionmaker(engine, expire_on_commit=False),
            sync_sessions=sessionmaker(sync_engine, expire_on_commit=False),
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def dispose(self) -> None:
        await self.engine.dispose()
        self.sync_engine.dispose()
