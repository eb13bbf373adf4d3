"""A small shop database and helpers for the action layer's integration tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import sqlalchemy as sa

from flexorm.actions import ActionService
from flexorm.auth.caller import Caller
from flexorm.flex import Flex
from flexorm.runtime import Runtime
from flexorm.settings import Settings
from tests.conftest import sync_engine

CALLER = Caller(kind="cli", user_id="tester")

SHOP = [
    "CREATE TABLE accounts (id {serial} PRIMARY KEY, name VARCHAR(80) NOT NULL,"
    " balance NUMERIC(12, 2) NOT NULL DEFAULT 0)",
    "CREATE TABLE orders (id {serial} PRIMARY KEY,"
    " status VARCHAR(10) NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'shipped', 'refunded')),"
    " account_id INTEGER NOT NULL REFERENCES accounts (id), total NUMERIC(10, 2) NOT NULL,"
    " shipped_at TIMESTAMP, carrier VARCHAR(40), \"unit price\" NUMERIC(10, 2))",
    "CREATE TABLE coupons (code VARCHAR(20) PRIMARY KEY, percent INTEGER NOT NULL)",
]


def create_shop(url: str, *, orders: int = 5) -> None:
    engine = sync_engine(url)
    with engine.begin() as conn:
        serial = "SERIAL" if conn.dialect.name == "postgresql" else "INTEGER"
        for statement in SHOP:
            conn.exec_driver_sql(statement.replace("{serial}", serial))
        conn.execute(sa.text("INSERT INTO accounts (name, balance) VALUES (:n, :b)"),
                     [{"n": "alice", "b": 100}, {"n": "bob", "b": 50},
                      {"n": "50% off_shop", "b": 0}])
        conn.execute(
            sa.text("INSERT INTO orders (account_id, total) VALUES (:a, :t)"),
            [{"a": 1 + i % 2, "t": 10 + i} for i in range(orders)],
        )
        conn.execute(sa.text("INSERT INTO coupons (code, percent) VALUES ('SPRING', 10), "
                             "('x,y', 5)"))
    engine.dispose()


def snapshot(url: str, table: str) -> list[tuple[Any, ...]]:
    """Every row of ``table``, ordered by its first column."""
    engine = sync_engine(url)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(f'SELECT * FROM "{table}" ORDER BY 1').all()
    engine.dispose()
    return [tuple(row) for row in rows]


def make_flex(url: str, *, chunk_size: int = 1000, **options: Any) -> Flex:
    return Flex(url, settings=Settings(chunk_size=chunk_size, insecure=True, auto_upgrade=True),
                **options)


@contextlib.asynccontextmanager
async def running(flex: Flex) -> AsyncIterator[Runtime]:
    async with flex.runtime() as runtime:
        yield runtime


@contextlib.asynccontextmanager
async def service(flex: Flex) -> AsyncIterator[ActionService]:
    async with flex.runtime() as runtime:
        yield runtime.actions


@contextlib.contextmanager
def statements(runtime: Runtime) -> Iterator[list[str]]:
    """Every SQL statement either engine runs inside the block."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engines = [runtime.database.engine.sync_engine, runtime.database.sync_engine]
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", record)
