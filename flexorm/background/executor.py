"""``RunExecutor``: one background run, start to finish, in whichever process runs it.

1. claim the run (``queued`` → ``running``, one more attempt), or find why not (cancelled
   while queued, expired, already taken): then nothing runs;
2. run it through :meth:`ActionService.run_queued` (the same checks and transaction as a
   direct run), while a watcher writes its progress to the journal and reads back whether a
   cancel was asked, stops it at its deadline, and cancels its running statement on
   PostgreSQL;
3. record how it ended when it did not succeed (success is recorded in the run's own
   transaction): ``cancelled``, ``failed`` (an error, or its deadline), or, when the process
   itself is stopping, queued again (``retries``) or ``interrupted``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from flexorm.actions._background import Superseded
from flexorm.actions._recording import run_status
from flexorm.actions.run_control import RunControl
from flexorm.actions.service import ActionService
from flexorm.database import Database
from flexorm.exceptions import RunStopped
from flexorm.journal import Journal
from flexorm.journal.entry import RunStatus, error_text
from flexorm.journal.runs import Claimed

__all__ = ["RunExecutor"]

logger = logging.getLogger("flexorm.background")

POLL_SECONDS = 0.25
"""How often a running run's progress is written and its cancel flag read."""
RECOVER_SECONDS = 10.0
"""How long a stopping process keeps trying to record its runs' interruption while the state
database cannot be reached."""


class RunExecutor:
    """Runs claimed background runs with the current action service.

    Args:
        service: the current :class:`ActionService` (a server may reload it).
        journal: the journal holding the runs.
        database: the database the actions write to (its statements are the ones to cancel).
        worker: this process's name (:func:`~flexorm.background.processes.worker_name`).
    """

    def __init__(self, service: Callable[[], ActionService], journal: Journal,
                 database: Database, worker: str, *, poll: float = POLL_SECONDS) -> None:
        self._service = service
        self._journal = journal
        self._database = database
        self.worker = worker
        self._poll = poll
        self.controls: dict[int, RunControl] = {}
        """The runs going on in this process, by id."""
        self._watch_engine: AsyncEngine | None = None
        self._claim_conn: AsyncConnection | None = None
        self._claim_driver: Any = None
        """The driver's own connection under :attr:`_claim_conn` (psycopg's)."""
        self._claim_lock = asyncio.Lock()

    def _writes_progress(self) -> bool:
        """Whether the watcher writes a run's progress while the run goes on.

        Not on SQLite when the journal is in the run's own database: the run's transaction
        holds a lock on it from its start to its end (the write lock for an action that may
        write, a read lock, or a read snapshot in WAL mode, for one that only reads), so a
        progress write could never commit while the run goes on; and while it tried, or once
        it had committed, the run's own last statement (its completion) would find the
        database changed under it and fail. The progress is then written with the run's end
        only.
        """
        journal = self._journal
        return not (journal.shared and journal.engine.dialect.name == "sqlite")

    def _reporting(self) -> AsyncEngine:
        """The engine the watcher writes progress and reads the cancel flag with. On SQLite,
        one that gives up at once when a run's transaction holds the lock it needs (the
        progress is then written at the next poll, or with the run's end; the flag is read at
        the next poll)."""
        engine = self._journal.engine
        if engine.dialect.name != "sqlite":
            return engine
        if self._watch_engine is None:
            self._watch_engine = create_async_engine(engine.url, poolclass=NullPool,
                                                     connect_args={"timeout": 0.05})
        return self._watch_engine

    async def close(self) -> None:
        """Close what the claims and the watcher opened."""
        await self._drop_claim_connection()
        if self._watch_engine is not None:
            await self._watch_engine.dispose()
            self._watch_engine = None

    def stop_all(self) -> None:
        """This process is stopping: every run going on here stops at its next statement or
        progress call, and is queued again (``retries``) or ``interrupted``."""
        for control in list(self.controls.values()):
            control.stop("shutdown")

    def stop(self, run_id: int) -> bool:
        """Stop a run going on in this process at once (without waiting for the watcher to
        read the cancel flag); whether it was going on here."""
        control = self.controls.get(run_id)
        if control is None:
            return False
        control.stop("cancelled")
        return True

    async def claim(self, run_id: int) -> Claimed:
        """Claim ``run_id``, committed before the run starts (so that it shows ``running`` and
        a cancel reaches it).

        On PostgreSQL the claim is one statement, committed by itself (autocommit), on a
        connection this executor keeps for its claims and sent on the driver's connection
        directly: no checkout, ping, ``BEGIN`` nor ``COMMIT`` per run. A claim that finds that
        connection dropped (a database restart) is sent again once on a new one; if the first
        one had landed, the run is ``running`` under this process's name, and is taken as
        claimed.
        """
        engine = self._journal.engine
        if engine.dialect.name != "postgresql":
            async with engine.begin() as conn:
                return await self._journal.background.claim(conn, run_id, self.worker)
        async with self._claim_lock:
            try:
                return await self._claim_on_kept(run_id, reclaim=False)
            except Exception as exc:
                lost = self._claim_connection_lost(exc)
                await self._drop_claim_connection(invalidate=True)
                if not lost:
                    raise
                logger.warning("the claim of run %s lost its connection; claiming again",
                               run_id)
            return await self._claim_on_kept(run_id, reclaim=True)

    def _claim_connection_lost(self, exc: Exception) -> bool:
        if isinstance(exc, DBAPIError):
            return exc.connection_invalidated
        driver = self._claim_driver
        return driver is not None and bool(getattr(driver, "broken", False) or driver.closed)

    async def _claim_on_kept(self, run_id: int, *, reclaim: bool) -> Claimed:
        if self._claim_conn is None:
            conn = await self._journal.engine.connect()
            try:
                self._claim_conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                self._claim_driver = (await conn.get_raw_connection()).driver_connection
            except BaseException:
                await conn.close()
                raise
        conn = self._claim_conn
        runs = self._journal.background
        if not reclaim:
            claimed = await runs.claim_on_driver(self._claim_driver, conn.dialect, run_id,
                                                 self.worker)
            if claimed is not None:
                return claimed
        try:
            claimed = await runs.claim(conn, run_id, self.worker, reclaim=reclaim)
        except BaseException:
            with contextlib.suppress(Exception):
                await conn.rollback()
            raise
        await conn.commit()  # ends SQLAlchemy's view of a transaction; autocommit sends nothing
        return claimed

    async def _finish_alone(self, run_id: int, attempt: int, started_at: dt.datetime,
                            result: Any, note: str | None,
                            progress: Mapping[str, Any]) -> bool | None:
        """A run's success written by itself, when its transaction sent nothing: on PostgreSQL
        one statement on the connection the claims are sent on (see :meth:`claim`), else
        ``None`` (the journal writes it its own way). A lost connection is dropped and the
        error raised: the caller writes it the journal's way, tried until it can."""
        async with self._claim_lock:
            if self._claim_driver is None or self._claim_conn is None:
                return None
            try:
                return await self._journal.background.finish_on_driver(
                    self._claim_driver, self._claim_conn.dialect, run_id, attempt,
                    "succeeded", started_at, result=result, error=note, extra=progress)
            except BaseException:
                await self._drop_claim_connection(invalidate=True)
                raise

    async def _drop_claim_connection(self, *, invalidate: bool = False) -> None:
        """Close the kept claim connection (``invalidate``: it is not given back to the pool,
        as it may be broken)."""
        conn, self._claim_conn, self._claim_driver = self._claim_conn, None, None
        if conn is not None:
            with contextlib.suppress(Exception):
                if invalidate:
                    await conn.invalidate()
                await conn.close()

    async def execute(self, run_id: int, *,
                      abort_requested: Callable[[], bool] | None = None) -> str:
        """Claim and run ``run_id``; how it ended (a status, or why it did not run).

        ``abort_requested`` is polled with the cancel flag (the queue's own abort signal).
        """
        claimed = await self.claim(run_id)
        if claimed.outcome != "claimed":
            logger.info("run %s not started: %s", run_id, claimed.outcome)
            return claimed.outcome
        assert claimed.payload is not None
        assert claimed.started_at is not None
        stored = claimed.payload
        control = RunControl(run_id, attempt=claimed.attempt, deadline=stored.get("deadline"),
                             checkpoint=claimed.checkpoint)
        self.controls[run_id] = control
        control.finish_alone = functools.partial(self._finish_alone, run_id, claimed.attempt,
                                                 claimed.started_at)
        watcher: asyncio.Task[None] | None = None

        def watch() -> None:  # from the first poll on: a run shorter than that has no task
            nonlocal watcher
            watcher = asyncio.create_task(self._watch(control, abort_requested))

        first_poll = asyncio.get_running_loop().call_later(self._poll, watch)
        try:
            await self._service().run_queued(stored, control, claimed.started_at)
        except asyncio.CancelledError:
            await asyncio.shield(self._recover(control, int(stored.get("retries") or 0)))
            raise
        except Exception as exc:
            if isinstance(exc, Superseded) or control.stopped == "superseded":
                logger.warning("run %s: attempt %s was superseded; rolled back", run_id,
                               claimed.attempt)
                return "superseded"
            if control.stopped == "shutdown":
                await self._recover(control, int(stored.get("retries") or 0))
                return "stopped"
            return await self._failed(control, claimed, exc)
        finally:
            self.controls.pop(run_id, None)
            first_poll.cancel()
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
        return "succeeded"

    async def _failed(self, control: RunControl, claimed: Claimed,
                      exc: Exception) -> RunStatus:
        """Record a run that did not succeed (its transaction is rolled back)."""
        reason = exc.reason if isinstance(exc, RunStopped) else control.stopped
        if reason is not None:  # a cancelled statement surfaces as a database error
            exc = control.stopped_error() if not isinstance(exc, RunStopped) else exc
        status: RunStatus = "cancelled" if reason == "cancelled" else run_status(exc)
        if status == "failed" and reason is None:
            logger.warning("run %s failed: %s", control.run_id, error_text(exc),
                           exc_info=not isinstance(exc, RunStopped))
        started_at = claimed.started_at
        assert started_at is not None

        async def write(conn: AsyncConnection) -> None:
            await self._journal.background.finish(
                conn, control.run_id, control.attempt, status, started_at,
                error=error_text(exc), extra=_progress_columns(control))

        await self._journal.write_when_reachable(f"run {control.run_id} {status}", write)
        return status

    async def _recover(self, control: RunControl, retries: int) -> None:
        """This process is stopping mid-run: queued again while retries are left, else
        interrupted."""
        outcome = ""

        async def write(conn: AsyncConnection) -> None:
            nonlocal outcome
            outcome = await self._journal.background.recover(conn, control.run_id,
                                                             control.attempt, retries)

        try:
            await self._journal.write_when_reachable(
                f"run {control.run_id} stopped", write, give_up_after=RECOVER_SECONDS)
            logger.warning("run %s stopped with its process: %s", control.run_id, outcome)
        except Exception:
            logger.exception("run %s: could not record its interruption", control.run_id)

    async def _watch(self, control: RunControl,
                     abort_requested: Callable[[], bool] | None) -> None:
        """Every poll (the first one a poll after the run started): the queue's abort signal,
        the deadline, progress out, cancel flag in; once stopping, the running statement
        cancelled (PostgreSQL, MySQL, MariaDB)."""
        cancelled_statement = False
        writes_progress = self._writes_progress()
        while True:
            if abort_requested is not None and abort_requested():
                control.stop("cancelled")
            progress = control.unwritten_progress() if writes_progress else None
            try:
                async with self._reporting().begin() as conn:
                    cancel = await self._journal.background.report(
                        conn, control.run_id, control.attempt, progress=progress is not None,
                        **_progress_values(progress))
            except OperationalError:  # SQLite: the lock is taken (a run commits); next poll
                pass
            except Exception:
                logger.exception("run %s: could not report its progress", control.run_id)
            else:
                if progress is not None:
                    control.progress_written(progress)
                if cancel is None:
                    # another process took this process for dead and gave the run to a new
                    # attempt: this one stops now rather than at its commit (with a separate
                    # state database, it would commit), and its locks go with it
                    control.stop("superseded")
                elif cancel:
                    control.stop("cancelled")
            if control.stopped is not None and not cancelled_statement \
                    and control.backend_pid is not None:
                cancelled_statement = True
                await self._cancel_statement(control.backend_pid)
            await asyncio.sleep(self._poll)

    async def _cancel_statement(self, pid: int) -> None:
        """Cancel the statement running on the connection ``pid`` (its id in the server)."""
        try:
            async with self._database.engine.connect() as conn:
                if conn.dialect.name == "postgresql":
                    await conn.execute(sa.text("SELECT pg_cancel_backend(:pid)"), {"pid": pid})
                else:  # MySQL and MariaDB: KILL takes no parameters
                    await conn.exec_driver_sql(f"KILL QUERY {int(pid)}")
        except Exception:
            logger.exception("could not cancel the statement of backend %s", pid)


def _progress_columns(control: RunControl) -> dict[str, Any]:
    """The last progress a run reached, as journal columns (none reported: nothing)."""
    last = control.latest
    if last is None:
        return {}
    return {"progress_done": last.done, "progress_total": last.total,
            "progress_message": last.message}


def _progress_values(progress: Any) -> dict[str, Any]:
    if progress is None:
        return {}
    return {"done": progress.done, "total": progress.total, "message": progress.message}
