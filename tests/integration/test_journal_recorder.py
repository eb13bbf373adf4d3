"""``Journal``: one request's journal and key handling, in the main database and in a separate
state database, driven the way the action layer drives it."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine

from flexorm._url import async_url
from flexorm.auth.caller import Caller
from flexorm.journal import RunEntry
from flexorm.journal.entry import utcnow
from flexorm.journal.recorder import Journal
from flexorm.migrations import upgrade
from flexorm.protocol.requests import ExecuteRequest
from flexorm.settings import Settings
from tests.conftest import sync_engine

pytestmark = pytest.mark.anyio

REQUEST = ExecuteRequest(action="refund", model="orders", ids=(1,), params={"pin": "9"})
CALLER = Caller(kind="key", key_name="key-1")


@pytest.fixture
async def main(db_url: str) -> AsyncIterator[AsyncEngine]:
    setup = sync_engine(db_url)
    with setup.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE orders (id INTEGER PRIMARY KEY, status VARCHAR(10))")
        conn.exec_driver_sql("INSERT INTO orders VALUES (1, 'paid')")
    setup.dispose()
    engine = create_async_engine(async_url(db_url))
    yield engine
    await engine.dispose()


@pytest.fixture(params=["shared", "separate"])
async def journal(request: pytest.FixtureRequest, main: AsyncEngine, db_url: str,
                  tmp_path: Path) -> AsyncIterator[Journal]:
    state_url = None if request.param == "shared" else f"sqlite:///{tmp_path}/state.db"
    upgrade(state_url or db_url)
    journal = Journal.open(Settings(database_url=db_url, state_url=state_url), main)
    yield journal
    await journal.dispose()


def entry(status: str, key: str | None = "k1", **fields: Any) -> RunEntry:
    return RunEntry.for_request(REQUEST, CALLER, status=status,  # type: ignore[arg-type]
                                started_at=utcnow(), secret={"pin"}, idempotency_key=key,
                                **fields)


async def execute(journal: Journal, main: AsyncEngine, *, fail: bool = False) -> Any:
    """What the action layer does with one request carrying the key ``k1``."""
    claim = await journal.claim("k1", REQUEST)
    if not claim.owned:
        if claim.kind == "replay":
            return claim.response
        raise claim.conflict()
    answer = {"result": {"refunded": 1}}
    try:
        async with AsyncSession(main) as session, session.begin():
            await session.execute(sa.text("UPDATE orders SET status = 'refunded'"))
            if fail:
                raise RuntimeError("provider down")
            await session.run_sync(journal.succeeded, entry("succeeded", result=answer), answer)
    except RuntimeError as exc:
        await journal.failed(entry("failed", error=str(exc)))
        raise
    if not journal.in_transaction(writes=True):
        await journal.committed(entry("succeeded", result=answer), answer)
    return answer


async def status_of(main: AsyncEngine) -> str:
    async with main.connect() as conn:
        return str((await conn.execute(sa.text("SELECT status FROM orders"))).scalar())


async def runs(journal: Journal) -> list[RunEntry]:
    async with journal.engine.connect() as conn:
        return await journal.runs.recent(conn)


async def test_success_then_a_retry_replays_without_running(journal: Journal,
                                                            main: AsyncEngine) -> None:
    first = await execute(journal, main)
    async with main.begin() as conn:  # if the body ran again, this would be overwritten
        await conn.execute(sa.text("UPDATE orders SET status = 'shipped'"))

    again = await execute(journal, main)

    assert again == first == {"result": {"refunded": 1}}
    assert await status_of(main) == "shipped"
    [row] = await runs(journal)
    assert (row.status, row.params, row.caller_key_name) == ("succeeded", {"pin": "[redacted]"},
                                                             "key-1")


async def test_failure_leaves_a_row_no_writes_and_a_free_key(journal: Journal,
                                                             main: AsyncEngine) -> None:
    with pytest.raises(RuntimeError):
        await execute(journal, main, fail=True)

    assert await status_of(main) == "paid"
    assert [(r.status, r.error) for r in await runs(journal)] == [("failed", "provider down")]
    assert await execute(journal, main) == {"result": {"refunded": 1}}  # the retry runs


async def test_separate_state_database_keeps_the_main_one_clean(journal: Journal,
                                                                 main: AsyncEngine) -> None:
    await execute(journal, main)

    async with main.connect() as conn:
        names = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
    assert any(n.startswith("flexorm_") for n in names) is journal.shared
    assert len(await runs(journal)) == 1


async def test_a_record_of_what_happened_waits_for_a_busy_state_database(
        tmp_path: Path) -> None:
    """A run's committed success (or its failure, or its interruption) must be recorded: while
    another transaction holds the state database (here SQLite's write lock, past the journal's
    lock wait), the write is tried again until it lands, as when the database is down, rather
    than raised (a run whose effects committed would then be recorded ``failed``)."""
    state = tmp_path / "state.db"
    upgrade(f"sqlite:///{state}")
    engine = create_async_engine(async_url(f"sqlite:///{state}"), connect_args={"timeout": 0.05})
    journal = Journal(engine, shared=False, owns_engine=True)
    blocker = sqlite3.connect(state, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    asyncio.get_running_loop().call_later(0.5, blocker.execute, "COMMIT")
    try:
        async def write(conn: AsyncConnection) -> None:
            await journal.runs.record(conn, entry("succeeded", key=None))

        await journal.write_when_reachable("a committed run", write)
    finally:
        blocker.close()
        await journal.dispose()
    check = sqlite3.connect(state)
    try:
        assert check.execute("SELECT status FROM flexorm_action_runs").fetchall() == [
            ("succeeded",)]
    finally:
        check.close()
