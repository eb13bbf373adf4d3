"""Writing and reading the action journal (``flexorm_action_runs``).

Every method runs on a connection or session the caller passes and never commits: the caller
decides which transaction a row belongs to. That is how a successful action's row commits with
the action's own writes (pass the action's session), while a failed or rejected action's row is
written in a short transaction of its own (pass a fresh connection, then commit).
"""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session

from flexorm.journal.entry import RunEntry, RunStatus
from flexorm.journal.tables import action_runs

__all__ = ["INSERT_RUN", "AsyncExecutor", "JournalStore", "SyncExecutor", "inserted_id"]

AsyncExecutor = AsyncConnection | AsyncSession
"""What the async methods run on: the caller's connection or session, in its transaction."""
SyncExecutor = Connection | Session
"""What the ``*_sync`` methods run on (a sync action body's session, in its worker thread)."""


INSERT_RUN = action_runs.insert()
"""A journal row's ``INSERT``, built once, its values sent as parameters: building a statement
around the values costs more than sending it (SQLAlchemy coerces every value and keys the
statement anew each time)."""


def inserted_id(result: Any) -> int:
    """The primary key of the one row an ``INSERT`` added."""
    key = cast("CursorResult[Any]", result).inserted_primary_key
    assert key is not None, "an INSERT of one row has a primary key"
    return int(key[0])


def _query(action: str | None, status: RunStatus | None, limit: int) -> sa.Select[Any]:
    query = sa.select(action_runs)
    if action is not None:
        query = query.where(action_runs.c.action == action)
    if status is not None:
        query = query.where(action_runs.c.status == status)
    return query.order_by(action_runs.c.started_at.desc(), action_runs.c.id.desc()).limit(limit)


class JournalStore:
    """The action journal.

    Examples:
        >>> store = JournalStore()
        >>> async with database.sessions() as session, session.begin():  # doctest: +SKIP
        ...     ...  # the action's writes
        ...     await store.record(session, entry)  # commits with them
    """

    async def record(self, db: AsyncExecutor, entry: RunEntry) -> int:
        """Add ``entry`` in ``db``'s current transaction; the new row's id."""
        return inserted_id(await db.execute(INSERT_RUN, entry.row()))

    def record_sync(self, db: SyncExecutor, entry: RunEntry) -> int:
        """:meth:`record` on a blocking connection or session."""
        return inserted_id(db.execute(INSERT_RUN, entry.row()))

    async def recent(self, db: AsyncExecutor, *, action: str | None = None,
                     status: RunStatus | None = None, limit: int = 20) -> list[RunEntry]:
        """The latest runs, newest first, optionally of one action or status."""
        result = await db.execute(_query(action, status, limit))
        return [RunEntry.from_row(dict(row)) for row in result.mappings()]

    def recent_sync(self, db: SyncExecutor, *, action: str | None = None,
                    status: RunStatus | None = None, limit: int = 20) -> list[RunEntry]:
        """:meth:`recent` on a blocking connection or session."""
        result = db.execute(_query(action, status, limit))
        return [RunEntry.from_row(dict(row)) for row in result.mappings()]
