"""The PostgreSQL queue: procrastinate, imported only when a background run is queued on it.

flexorm uses one task, ``flexorm.run`` (keyword ``run``: the journal id), deferred with the
queueing lock ``flexorm-run-<id>`` so that a run waits in the queue at most once. The job is a
doorbell, not the record: the run's journal row says what to run and whether it still should,
so a job delivered twice, late, or after its run was cancelled does nothing.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from flexorm._liveness import looks_open
from flexorm._url import parse_url
from flexorm.journal import Journal
from flexorm.journal.runs import CancelOutcome

if TYPE_CHECKING:
    from procrastinate import App

__all__ = ["TASK", "Queue", "connector", "conninfo", "lock_of"]

logger = logging.getLogger("flexorm.background")

TASK = "flexorm.run"
"""The name of flexorm's task in the queue."""


def lock_of(run_id: int) -> str:
    """The queueing lock of a run's job."""
    return f"flexorm-run-{run_id}"


def conninfo(url: str) -> str:
    """A libpq connection URI for a SQLAlchemy PostgreSQL URL (any driver).

    Examples:
        >>> conninfo("postgresql+psycopg://app:pw@db:5433/shop")
        'postgresql://app:pw@db:5433/shop'
    """
    parsed = parse_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError("the queue needs a PostgreSQL state database")
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


async def _autocommit(connection: Any) -> None:
    await connection.set_autocommit(True)


async def _check(connection: Any) -> None:
    """Refuse a pooled connection the database closed while it was idle, read from its socket
    (no round trip). It is closed here too: the pool then drops it and opens another, where
    it would hand an unread one back to the pool as it is."""
    if not looks_open(connection):
        import psycopg

        await connection.close()
        raise psycopg.OperationalError("the database closed this connection while it was idle")


def _pool(**options: Any) -> Any:
    from psycopg_pool import AsyncConnectionPool

    return AsyncConnectionPool(**{**options, "check": _check})


def connector(info: str, max_size: int) -> Any:
    """The ``PsycopgConnector`` flexorm gives procrastinate: at most ``max_size`` connections
    to ``info`` (a libpq URI), in autocommit, checked without a round trip.

    procrastinate sends one statement at a time (a job fetched, finished, deferred or
    cancelled; a heartbeat), each atomic by itself: in autocommit each is one round trip, where
    its own transaction takes three (``BEGIN``, the statement, ``COMMIT``). The pool checks a
    connection it hands out by looking at its socket (:func:`flexorm._liveness.looks_open`),
    where procrastinate's default sends an empty statement. Both through procrastinate's and
    psycopg's public options (``configure``, ``pool_factory``, ``check``).
    """
    import procrastinate

    return procrastinate.PsycopgConnector(conninfo=info, min_size=1, max_size=max_size,
                                          configure=_autocommit, pool_factory=_pool)


class Queue:
    """procrastinate's ``App`` on the state database, opened at first use.

    Args:
        journal: the journal (its database holds the queue's tables).
        url: the state database's URL.
        pool_size: the most connections the queue keeps open.
    """

    def __init__(self, journal: Journal, url: str, *, pool_size: int = 4) -> None:
        self._journal = journal
        self._conninfo = conninfo(url)
        self.pool_size = pool_size
        """The most connections of the queue's pool (a worker raises it before opening)."""
        self._app: App | None = None

    async def app(self) -> App:
        """The opened ``App``."""
        if self._app is None:
            import procrastinate

            app = procrastinate.App(connector=connector(self._conninfo, self.pool_size))
            await app.open_async()
            self._app = app
        return self._app

    def bind(self, service: Any) -> None:
        """Workers run the runs; the server only queues them."""

    async def start(self) -> None:
        """Nothing to start (the queue opens at the first run): say who runs the runs."""
        logger.info("background runs are queued on PostgreSQL for `flexorm worker` "
                    "processes; this process only queues them")

    async def queued(self, run_id: int) -> None:
        """Defer the run's job and remember it on the run (for a cancel's abort)."""
        from procrastinate.exceptions import AlreadyEnqueued

        app = await self.app()
        try:
            job_id = await app.configure_task(TASK, queueing_lock=lock_of(run_id)) \
                .defer_async(run=run_id)
        except AlreadyEnqueued:
            return
        async with self._journal.engine.begin() as conn:
            await self._journal.background.set_job(conn, run_id, job_id)

    async def cancel(self, run_id: int) -> CancelOutcome:
        """Cancel a run: a queued one never starts; a running one is aborted through the
        queue's notification (its worker stops it at its next statement or progress call)."""
        async with self._journal.engine.begin() as conn:
            outcome = await self._journal.background.request_cancel(conn, run_id)
        if outcome.job_id is not None and (outcome.cancelled_now or outcome.stopping):
            app = await self.app()
            with contextlib.suppress(Exception):  # the flag alone stops it at the next poll
                await app.job_manager.cancel_job_by_id_async(outcome.job_id,
                                                             abort=outcome.stopping)
        return outcome

    async def close(self) -> None:
        """Close the queue's connections."""
        if self._app is not None:
            await self._app.close_async()
            self._app = None
