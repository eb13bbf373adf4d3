"""Blocking work on a database behind an async engine (how reflection runs)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from flexorm.database import Database, run_blocking
from flexorm.reflection import reflect
from flexorm.settings import Settings


def _where(conn: sa.Connection) -> tuple[str, str, list[str]]:
    names = sa.inspect(conn).get_table_names()
    return threading.current_thread().name, conn.dialect.driver, names


def test_a_sqlite_file_is_read_with_pysqlite_off_the_event_loop(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    engine.dispose()

    async def go() -> tuple[str, str, list[str]]:
        database = Database.connect(f"sqlite:///{path}")
        try:
            return await run_blocking(database.engine, _where)
        finally:
            await database.dispose()

    thread, driver, names = asyncio.run(go())
    assert (thread != threading.main_thread().name, driver, names) == (True, "pysqlite", ["t"])


def test_an_in_memory_database_is_read_on_the_async_engine_s_own_connection() -> None:
    # another connection would see another, empty, database
    async def go() -> tuple[tuple[str, str, list[str]], list[str]]:
        engine = create_async_engine("sqlite+aiosqlite://")
        try:
            async with engine.begin() as conn:
                await conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            where = await run_blocking(engine, _where)
            schema = await reflect(engine, Settings())
            return where, [collection.name for collection in schema]
        finally:
            await engine.dispose()

    (_, driver, names), collections = asyncio.run(go())
    assert (driver, names, collections) == ("aiosqlite", ["t"], ["t"])
