"""The two engines flexorm keeps for one database.

Async action bodies and the server's own queries use the async engine (aiosqlite, psycopg).
Sync action bodies run in a worker thread, off the event loop, with a blocking session from the
sync engine (pysqlite, psycopg), so a slow body never stalls other requests.
"""

from __future__ import annotations

from dataclasses import dataclass

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

__all__ = ["Database"]


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
