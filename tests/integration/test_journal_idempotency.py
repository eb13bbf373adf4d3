"""Idempotency keys on real databases: claim, replay, mismatch, expiry, release, and many
connections claiming one key at once on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import anyio
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from flexorm._url import async_url
from flexorm.exceptions import IdempotencyConflict
from flexorm.journal import Claim, IdempotencyStore, fingerprint
from flexorm.migrations import upgrade

pytestmark = pytest.mark.anyio

PRINT = fingerprint("refund", "orders", [5], {"reason": "late"})
OTHER = fingerprint("refund", "orders", [5], {"reason": "early"})


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    upgrade(db_url)
    engine = create_async_engine(async_url(db_url))
    yield engine
    await engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def keys(clock: Clock) -> IdempotencyStore:
    return IdempotencyStore(ttl=dt.timedelta(hours=1), lease=dt.timedelta(minutes=5),
                            clock=clock)


async def claim(engine: AsyncEngine, keys: IdempotencyStore, key: str = "k1",
                print_: str = PRINT, action: str = "refund") -> Claim:
    async with engine.begin() as conn:
        return await keys.claim(conn, key, action, print_)


async def complete(engine: AsyncEngine, keys: IdempotencyStore, response: object,
                   key: str = "k1") -> None:
    async with engine.begin() as conn:
        await keys.complete(conn, key, response)


async def test_first_claim_owns_the_key_and_a_retry_replays(engine: AsyncEngine,
                                                            keys: IdempotencyStore) -> None:
    first = await claim(engine, keys)
    assert first.owned

    await complete(engine, keys, {"result": {"refunded": 5}})
    again = await claim(engine, keys)

    assert again == Claim("replay", "k1", {"result": {"refunded": 5}})
    assert not again.owned


async def test_same_key_with_another_payload_is_a_mismatch(engine: AsyncEngine,
                                                           keys: IdempotencyStore) -> None:
    await claim(engine, keys)
    await complete(engine, keys, {"result": True})

    other_params = await claim(engine, keys, print_=OTHER)
    other_action = await claim(engine, keys, action="ship")

    assert other_params.kind == other_action.kind == "mismatch"
    error = other_params.conflict()
    assert isinstance(error, IdempotencyConflict)
    assert (error.key, error.reason) == ("k1", "mismatch")


async def test_a_key_still_running_is_in_progress(engine: AsyncEngine,
                                                  keys: IdempotencyStore) -> None:
    await claim(engine, keys)

    second = await claim(engine, keys)

    assert second.kind == "in_progress"
    assert second.conflict().reason == "in_progress"


async def test_released_key_runs_again(engine: AsyncEngine, keys: IdempotencyStore) -> None:
    await claim(engine, keys)
    async with engine.begin() as conn:
        await keys.release(conn, "k1")

    assert (await claim(engine, keys)).owned


async def test_release_never_forgets_a_completed_answer(engine: AsyncEngine,
                                                        keys: IdempotencyStore) -> None:
    await claim(engine, keys)
    await complete(engine, keys, {"result": 1})
    async with engine.begin() as conn:
        await keys.release(conn, "k1")

    assert (await claim(engine, keys)).kind == "replay"


async def test_completed_key_expires_after_its_ttl(engine: AsyncEngine, keys: IdempotencyStore,
                                                   clock: Clock) -> None:
    await claim(engine, keys, key="old")
    await complete(engine, keys, {"result": 1}, key="old")
    await claim(engine, keys, key="fresh")

    clock.advance(minutes=59)
    assert (await claim(engine, keys, key="old")).kind == "replay"

    clock.advance(minutes=2)
    # an expired key counts as absent: even another payload may use it now
    assert (await claim(engine, keys, key="old", print_=OTHER)).owned
    async with engine.connect() as conn:
        left = (await conn.execute(sa.text("SELECT key FROM flexorm_idempotency"))).scalars()
        assert sorted(left) == ["old"]  # "fresh"'s lease ended too: cleaned up


async def test_abandoned_claim_is_taken_over_after_its_lease(engine: AsyncEngine,
                                                             keys: IdempotencyStore,
                                                             clock: Clock) -> None:
    await claim(engine, keys)  # the holder dies without completing or releasing

    clock.advance(minutes=4)
    assert (await claim(engine, keys)).kind == "in_progress"
    clock.advance(minutes=2)
    assert (await claim(engine, keys)).owned


async def test_completion_commits_with_the_actions_writes(engine: AsyncEngine,
                                                          keys: IdempotencyStore) -> None:
    """Rolled back with the action: the key stays pending, never 'done' without the writes."""
    await claim(engine, keys)

    async def action_that_fails() -> None:
        async with AsyncSession(engine) as session, session.begin():
            await keys.complete(session, "k1", {"result": True})
            raise RuntimeError("commit failed")

    with pytest.raises(RuntimeError):
        await action_that_fails()

    assert (await claim(engine, keys)).kind == "in_progress"


@pytest.mark.postgres
async def test_concurrent_claims_of_one_key_run_the_body_once(pg_url: str) -> None:
    upgrade(pg_url)
    engine = create_async_engine(async_url(pg_url), pool_size=12, max_overflow=0)
    keys = IdempotencyStore()
    connected = 0
    everyone_connected = anyio.Event()
    claims: list[Claim] = []

    async def request() -> None:
        nonlocal connected
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
            await conn.commit()
            connected += 1
            if connected == 12:
                everyone_connected.set()
            await everyone_connected.wait()  # all claim at once, each on its own connection
            async with conn.begin():
                claims.append(await keys.claim(conn, "shared", "refund", PRINT))

    try:
        async with anyio.create_task_group() as group:
            for _ in range(12):
                group.start_soon(request)
        async with engine.begin() as conn:
            await keys.complete(conn, "shared", {"result": "done once"})
        async with engine.begin() as conn:
            replay = await keys.claim(conn, "shared", "refund", PRINT)
    finally:
        await engine.dispose()

    kinds = sorted(c.kind for c in claims)
    assert kinds == ["in_progress"] * 11 + ["new"]
    assert replay == Claim("replay", "shared", {"result": "done once"})
