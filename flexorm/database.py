"""The two engines flexorm keeps for one database.

Async action bodies and the server's own queries use the async engine (aiosqlite, psycopg).
Sync action bodies run in a worker thread, off the event loop, with a blocking session from the
sync engine (pysqlite, psycopg), so a slow body never stalls other requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker

from flexorm._url import async_url, parse_url, sync_url
from flexorm.exceptions import DatabaseError

__all__ = ["Database", "require_sqlite_file"]


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
