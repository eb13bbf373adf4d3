"""The journal on real databases: round trips, the action's transaction, a separate state
database, reading it back."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import Session

from flexorm._url import async_url, sync_url
from flexorm.auth.caller import Caller
from flexorm.journal import REDACTED, JournalStore, RunEntry
from flexorm.migrations import upgrade
from flexorm.protocol.requests import ExecuteRequest
from tests.conftest import sync_engine

pytestmark = pytest.mark.anyio

T0 = dt.datetime(2026, 3, 1, 12, 0, 0, 250_000, tzinfo=dt.UTC)


@pytest.fixture
def migrated(db_url: str) -> str:
    """A database with a user table ``orders`` and flexorm's tables."""
    setup = sync_engine(db_url)
    with setup.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE orders (id INTEGER PRIMARY KEY, status VARCHAR(10))")
        conn.exec_driver_sql("INSERT INTO orders VALUES (1, 'paid')")
    setup.dispose()
    upgrade(db_url)
    return db_url


@pytest.fixture
async def engine(migrated: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(async_url(migrated))
    yield engine
    await engine.dispose()


def entry(status: str = "succeeded", *, action: str = "refund", offset: int = 0,
          **fields: object) -> RunEntry:
    return RunEntry.for_request(
        ExecuteRequest(action=action, model="orders", ids=(1, "2"),
                       params={"reason": "late", "pin": "1234"}),
        Caller(kind="jwt", user_id="u-42", claims={"token": "never stored"}),
        status=status,  # type: ignore[arg-type]
        started_at=T0 + dt.timedelta(seconds=offset),
        finished_at=T0 + dt.timedelta(seconds=offset, milliseconds=1500),
        secret={"pin"},
        **fields,  # type: ignore[arg-type]
    )


async def test_round_trip_keeps_every_field(engine: AsyncEngine) -> None:
    store = JournalStore()
    written = entry(result={"refunded": Decimal("12.50"), "when": dt.date(2026, 3, 1)},
                    request_id="req-1", idempotency_key="key-1")
    async with engine.begin() as conn:
        new_id = await store.record(conn, written)

    async with engine.connect() as conn:
        [read] = await store.recent(conn)

    assert read.id == new_id
    assert read.action == "refund"
    assert read.collection == "orders"
    assert read.ids == (1, "2")
    assert read.inverse is False
    assert read.params == {"reason": "late", "pin": REDACTED}
    assert (read.caller_kind, read.caller_user_id, read.caller_key_name) == ("jwt", "u-42", None)
    assert read.status == "succeeded"
    assert read.result == {"refunded": "12.50", "when": "2026-03-01"}
    assert read.error is None
    assert read.started_at == T0
    assert read.started_at.tzinfo is not None
    assert read.finished_at == T0 + dt.timedelta(milliseconds=1500)
    assert read.duration_ms == 1500
    assert (read.request_id, read.idempotency_key) == ("req-1", "key-1")


async def test_secret_values_never_reach_the_database(engine: AsyncEngine, db_url: str) -> None:
    async with engine.begin() as conn:
        await JournalStore().record(conn, entry())

    setup = sync_engine(db_url)
    with setup.connect() as conn:
        raw = [str(value) for value in
               conn.execute(sa.text("SELECT * FROM flexorm_action_runs")).one()]
    setup.dispose()
    assert not any("1234" in value or "never stored" in value for value in raw)


async def test_success_row_commits_with_the_actions_writes(engine: AsyncEngine) -> None:
    store = JournalStore()
    async with AsyncSession(engine) as session, session.begin():
        await session.execute(sa.text("UPDATE orders SET status = 'refunded' WHERE id = 1"))
        await store.record(session, entry())

    async with engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT status FROM orders"))).scalar() == "refunded"
        assert len(await store.recent(conn)) == 1


async def test_failed_body_leaves_its_row_but_not_its_writes(engine: AsyncEngine) -> None:
    store = JournalStore()

    async def body_that_fails() -> None:
        async with AsyncSession(engine) as session, session.begin():
            await session.execute(sa.text("UPDATE orders SET status = 'refunded' WHERE id = 1"))
            raise RuntimeError("payment provider down")

    with pytest.raises(RuntimeError):
        await body_that_fails()
    async with engine.begin() as conn:  # the failure's own short transaction
        await store.record(conn, entry("failed", error="payment provider down"))

    async with engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT status FROM orders"))).scalar() == "paid"
        [row] = await store.recent(conn)
    assert (row.status, row.error, row.result) == ("failed", "payment provider down", None)


def test_sync_bodies_record_on_their_blocking_session(migrated: str) -> None:
    store = JournalStore()
    blocking = sa.create_engine(sync_url(migrated))
    with Session(blocking) as session, session.begin():
        session.execute(sa.text("UPDATE orders SET status = 'refunded' WHERE id = 1"))
        store.record_sync(session, entry())
    with blocking.connect() as conn:
        [row] = store.recent_sync(conn)
        status = conn.execute(sa.text("SELECT status FROM orders")).scalar()
    blocking.dispose()
    assert (row.status, status) == ("succeeded", "refunded")


async def test_recent_is_newest_first_and_filters(engine: AsyncEngine) -> None:
    store = JournalStore()
    async with engine.begin() as conn:
        await store.record(conn, entry(offset=0))
        await store.record(conn, entry("rejected", offset=1, error="reason: required"))
        await store.record(conn, entry(action="ship", offset=2))
        await store.record(conn, entry("failed", offset=3, error="boom"))

    async with engine.connect() as conn:
        newest = await store.recent(conn)
        refunds = await store.recent(conn, action="refund")
        failed = await store.recent(conn, status="failed")
        two = await store.recent(conn, limit=2)

    assert [e.started_at.second for e in newest] == [3, 2, 1, 0]
    assert [e.started_at.second for e in refunds] == [3, 1, 0]
    assert [e.error for e in failed] == ["boom"]
    assert [e.started_at.second for e in two] == [3, 2]


async def test_status_is_checked_by_the_database(engine: AsyncEngine) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        async with engine.begin() as conn:
            await JournalStore().record(conn, entry("exploded"))


async def test_separate_state_database(tmp_path: object, db_url: str) -> None:
    """The main database stays without flexorm tables; the journal goes to the state one."""
    main_engine = sync_engine(db_url)
    with main_engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE orders (id INTEGER PRIMARY KEY, status VARCHAR(10))")
        conn.exec_driver_sql("INSERT INTO orders VALUES (1, 'paid')")
    state_url = f"sqlite:///{tmp_path}/state.db"
    upgrade(state_url)
    main = create_async_engine(async_url(db_url))
    state = create_async_engine(async_url(state_url))
    store = JournalStore()
    try:
        async with AsyncSession(main) as session, session.begin():
            await session.execute(sa.text("UPDATE orders SET status = 'refunded'"))
        async with state.begin() as conn:  # after the action's commit
            await store.record(conn, entry())
        async with state.connect() as conn:
            assert len(await store.recent(conn)) == 1
    finally:
        await main.dispose()
        await state.dispose()

    assert not [n for n in sa.inspect(main_engine).get_table_names() if n.startswith("flexorm_")]
    main_engine.dispose()
