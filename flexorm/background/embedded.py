"""``EmbeddedRunner``: the server process runs its own background actions.

The default when the state database is not PostgreSQL (SQLite, MariaDB). Runs are the same
journal rows as with the queue; a run is claimed by the same conditional update, so nothing
runs twice. A run left ``running`` is taken for one of a dead process when a server starts,
unless its process runs on this machine still (:func:`~flexorm.background.processes.alive_here`);
while a server runs, it takes the runs of the server processes of its machine that died since
(:func:`~flexorm.background.processes.dead_here`). Server processes of one machine share the
runs, servers on several machines need the PostgreSQL queue (see ``docs/background.md``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from flexorm.actions.service import ActionService
from flexorm.background.executor import RunExecutor
from flexorm.background.processes import alive_here, dead_here, worker_name
from flexorm.background.sweep import expire_and_prune, recover_runs
from flexorm.database import Database
from flexorm.journal import Journal
from flexorm.journal.runs import CancelOutcome

__all__ = ["EmbeddedRunner"]

logger = logging.getLogger("flexorm.background")

IDLE_SECONDS = 1.0
"""How often the runner looks for queued runs when nothing woke it (runs queued by another
process, such as ``flexorm call``)."""

SWEEP_SECONDS = 60.0
"""How often the runner expires overdue queued runs and prunes old ones."""

RECOVER_SECONDS = 10.0
"""How often the runner looks for runs left ``running`` by a server process of this machine
that has died (one that was not replaced, so that no server start recovered them)."""

SHUTDOWN_SECONDS = 10.0
"""How long a stopping server waits for its runs to reach a statement or progress call."""


class EmbeddedRunner:
    """Runs queued runs in this process, ``concurrency`` at a time.

    Args:
        journal: the journal holding the runs.
        database: the database the actions write to.
        concurrency: how many runs at once.
        retention_days: finished runs older than this are deleted (``None``: kept).
    """

    def __init__(self, journal: Journal, database: Database, *, concurrency: int = 4,
                 retention_days: int | None = None) -> None:
        self._journal = journal
        self._service: ActionService | None = None
        self._executor = RunExecutor(self._current, journal, database, worker_name("server"))
        self._concurrency = concurrency
        self._retention = retention_days
        self._wake = asyncio.Event()
        self._running: dict[int, asyncio.Task[str]] = {}
        self._loop_task: asyncio.Task[None] | None = None

    def _current(self) -> ActionService:
        assert self._service is not None, "bound before the first run"
        return self._service

    def bind(self, service: ActionService) -> None:
        """Run with ``service`` from now on (the runtime's, again after a reload)."""
        self._service = service

    async def queued(self, run_id: int) -> None:
        """A run was queued in this process: look now rather than at the next poll."""
        self._wake.set()

    async def cancel(self, run_id: int) -> CancelOutcome:
        """Cancel a run: a queued one never starts; a running one stops at its next statement
        or progress call (at once when it runs in this process, else when its watcher reads
        the flag)."""
        engine = self._journal.engine
        if self._executor.stop(run_id):
            # Running here: it stops at its next statement or progress call and records its own
            # end, ``cancel_requested`` included. On SQLite the flag is not written now: it
            # would wait for the run's own lock.
            if engine.dialect.name != "sqlite":
                async with engine.begin() as conn:
                    await self._journal.background.request_cancel(conn, run_id)
            return CancelOutcome(found=True, status="running")
        async with engine.begin() as conn:
            return await self._journal.background.request_cancel(conn, run_id)

    async def start(self) -> None:
        """Recover the runs a previous server left running, then run queued runs. The runs of
        another server process of this machine that is running are its own, and left alone."""
        async with self._journal.engine.connect() as conn:
            left = await self._journal.background.running(conn, worker_like="server:%")
        await recover_runs(self._journal, [run for run in left
                                           if not alive_here(run.worker, run.running_at)])
        self._loop_task = asyncio.create_task(self._loop(), name="flexorm background runs")

    async def close(self) -> None:
        """Stop taking runs; runs still going are stopped (queued again or interrupted)."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.wait([self._loop_task])  # its end, without taking our own cancel
        self._executor.stop_all()
        tasks = list(self._running.values())
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_SECONDS)
            for task in pending:  # a body that neither queries nor reports progress
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._executor.close()

    async def wait_idle(self) -> None:
        """Until no run is going and none is queued (for tests and the CLI)."""
        while True:
            if not self._running:
                async with self._journal.engine.connect() as conn:
                    if not await self._journal.background.queued(conn, limit=1):
                        return
            self._wake.set()
            await asyncio.sleep(0.05)

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        swept = 0.0
        recovered = loop.time()  # start() just did
        while True:
            # asyncio.timeout, not wait_for: Python 3.11's wait_for drops a cancel that comes
            # as the event is set, and the runner would then never stop
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(IDLE_SECONDS):
                    await self._wake.wait()
            self._wake.clear()
            try:
                if loop.time() - swept > SWEEP_SECONDS:
                    swept = loop.time()
                    await expire_and_prune(self._journal, self._retention)
                if loop.time() - recovered > RECOVER_SECONDS:
                    recovered = loop.time()
                    await self._recover_dead()
                await self._take()
            except Exception:
                logger.exception("background runs: could not read the queued runs")

    async def _recover_dead(self) -> None:
        """The runs a server process of this machine left ``running`` when it died, queued
        again (``retries``) or ``interrupted``: a process that was not replaced (one of several
        servers killed for good), or whose end came after this one started (a killed process
        its parent had not reaped yet counted as running then)."""
        async with self._journal.engine.connect() as conn:
            left = await self._journal.background.running(conn, worker_like="server:%")
        await recover_runs(self._journal, [run for run in left
                                           if dead_here(run.worker, run.running_at)])

    async def _take(self) -> None:
        free = self._concurrency - len(self._running)
        if free <= 0:
            return
        async with self._journal.engine.connect() as conn:
            ids = await self._journal.background.queued(conn, limit=free + len(self._running))
        for run_id in ids:
            if run_id in self._running or len(self._running) >= self._concurrency:
                continue
            task = asyncio.create_task(self._executor.execute(run_id),
                                       name=f"flexorm run {run_id}")
            self._running[run_id] = task
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[str]) -> None:
        for run_id, running in list(self._running.items()):
            if running is task:
                del self._running[run_id]
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s: %s", task.get_name(), task.exception())
        self._wake.set()
