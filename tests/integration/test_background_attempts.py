"""A run's completion counts only for its current attempt, on every database.

A worker presumed dead may wake up and reach the end of its attempt after the run was queued
again and claimed by another: its completion must change nothing (its transaction is then
rolled back), and the current attempt's must land with its result. On PostgreSQL with psycopg
the completion goes on the driver's own connection; elsewhere through SQLAlchemy.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from flexorm import Flex
from flexorm.journal import Journal
from flexorm.journal.entry import RunEntry, utcnow
from flexorm.journal.runs import Claimed
from flexorm.settings import Settings
from tests.integration._background_shop import create_tables


def _journaled(url: str) -> Flex:
    """flexorm on the shop's tables with its journal, and no background action declared:
    nothing else claims the runs a test queues."""
    create_tables(url)
    return Flex(url, settings=Settings(tokens=("t",), auto_upgrade=True, journal=True))


async def _claimed(journal: Journal, action: str, worker: str,
                   payload: dict[str, int]) -> tuple[int, Claimed]:
    """A background run queued, then claimed by ``worker``: its id and the claim."""
    entry = RunEntry(action=action, status="queued", started_at=utcnow(), finished_at=None,
                     background=True)
    async with journal.engine.begin() as conn:
        run_id = await journal.background.enqueue(conn, entry, payload, None)
    async with journal.engine.begin() as conn:
        return run_id, await journal.background.claim(conn, run_id, worker)


def test_a_superseded_attempts_completion_changes_nothing_and_the_current_one_lands(
        any_url: str) -> None:
    flex = _journaled(any_url)

    async def main() -> None:
        async with flex.runtime() as runtime:
            journal = runtime.journal
            assert journal is not None
            runs = journal.background
            run_id, first = await _claimed(journal, "stale_or_not", "worker:asleep",
                                           {"retries": 1})
            async with journal.engine.begin() as conn:
                assert await runs.recover(conn, run_id, first.attempt, 1) == "requeued"
            async with journal.engine.begin() as conn:
                second = await runs.claim(conn, run_id, "worker:awake")
            assert (first.attempt, second.attempt) == (1, 2)
            assert first.started_at is not None

            def complete() -> tuple[bool, bool]:
                with runtime.database.sync_sessions() as session, session.begin():
                    stale = runs.finish_sync(session, run_id, 1, "succeeded", first.started_at,
                                             result="from the old attempt")
                    current = runs.finish_sync(
                        session, run_id, 2, "succeeded", first.started_at,
                        result={"done": [1, "two"], "at": dt.date(2026, 12, 3)},
                        extra={"progress_done": 5, "progress_total": 5})
                return stale, current

            assert await asyncio.to_thread(complete) == (False, True)
            async with journal.engine.connect() as conn:
                row = (await conn.execute(sa.text(
                    "SELECT status, attempts, worker, progress_done, payload "
                    "FROM flexorm_action_runs WHERE id = :id"), {"id": run_id})).one()
                stored = await runs.get(conn, run_id)
            assert tuple(row) == ("succeeded", 2, "worker:awake", 5, None)
            assert stored is not None
            assert stored.result == {"done": [1, "two"], "at": "2026-12-03"}

    asyncio.run(main())


@pytest.mark.parametrize("body", ["blocking", "async"])
def test_a_completion_alone_in_its_transaction_commits_and_leaves_the_connection_transactional(
        any_url: str, body: str) -> None:
    """A run whose body sent nothing: its completion is its transaction's only statement. On
    PostgreSQL it then commits by itself, one round trip instead of three, under a blocking
    session (a sync body's) and an async one (an async body's) alike: another connection sees
    it before the session commits. The pooled connection goes back as it was: the next
    transaction on it still rolls back."""
    flex = _journaled(any_url)

    async def main() -> None:
        async with flex.runtime() as runtime:
            journal = runtime.journal
            assert journal is not None
            runs = journal.background
            run_id, claimed = await _claimed(journal, "alone", "worker:alone", {})
            assert claimed.started_at is not None
            started_at = claimed.started_at
            status = sa.text("SELECT status FROM flexorm_action_runs WHERE id = :id")
            touch = sa.text("UPDATE flexorm_action_runs SET error = 'rolled back' "
                            "WHERE id = :id")

            def complete(session: Session) -> bool:
                return runs.finish_sync(session, run_id, claimed.attempt, "succeeded",
                                        started_at, result=[1], closing=True)

            def seen_elsewhere() -> str:
                with runtime.database.sync_engine.connect() as other:
                    return str(other.execute(status, {"id": run_id}).scalar_one())

            def roll_back(session: Session) -> None:
                session.execute(touch, {"id": run_id})
                session.rollback()

            if body == "blocking":
                def blocking() -> tuple[bool, str]:
                    sessions = runtime.database.sync_sessions
                    with sessions() as session, session.begin():
                        landed = complete(session)
                        seen = seen_elsewhere()
                    with sessions() as session:  # the pool's one connection again
                        session.begin()
                        roll_back(session)
                    return landed, seen

                landed, seen = await asyncio.to_thread(blocking)
            else:
                async with runtime.database.sessions() as session, session.begin():
                    landed = await session.run_sync(complete)
                    seen = await asyncio.to_thread(seen_elsewhere)
                async with runtime.database.sessions() as session:
                    await session.begin()
                    await session.run_sync(roll_back)
            assert landed
            alone = runtime.database.dialect == "postgresql"
            assert seen == ("succeeded" if alone else "running")
            async with journal.engine.connect() as conn:
                stored = await runs.get(conn, run_id)
            assert stored is not None
            assert (stored.status, stored.result, stored.error) == ("succeeded", [1], None)

    asyncio.run(main())
