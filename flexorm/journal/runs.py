"""Background runs in the journal: a run is a ``flexorm_action_runs`` row that is ``queued``,
then ``running``, then finished (``succeeded``, ``failed``, ``cancelled``, ``expired`` or
``interrupted``).

Every change of status is one conditional ``UPDATE`` (``WHERE status = ...`` and, once running,
``attempts = ...``), so of two processes racing for a run exactly one wins, on every database:
a worker claiming a queued run against a cancel, two sweepers against a dead worker's run, a
late attempt against a retried one. Like :class:`~flexorm.journal.store.JournalStore`, every
method runs on the connection or session it is given and never commits.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

from flexorm.journal.entry import (
    ERROR_LENGTH,
    RunEntry,
    RunStatus,
    as_utc,
    jsonable,
    stored_text,
    utcnow,
)
from flexorm.journal.store import INSERT_RUN, AsyncExecutor, SyncExecutor, inserted_id
from flexorm.journal.tables import FINISHED_STATUSES, action_runs

__all__ = ["CANCEL_ACTION", "STATUS_ACTION", "CancelOutcome", "ClaimOutcome", "Claimed",
           "RunStore", "Running", "queued_answer"]

_runs = action_runs.c

ClaimOutcome = Literal["claimed", "missing", "not_queued", "cancelled", "expired"]


@dataclass(frozen=True, slots=True)
class Claimed:
    """What claiming a queued run found."""

    outcome: ClaimOutcome
    run_id: int
    attempt: int = 0
    """This attempt's number (1 for the first), when claimed."""
    payload: Mapping[str, Any] | None = None
    """The request to run (secrets included), when claimed."""
    checkpoint: Mapping[str, Any] | None = None
    """``atomic=False``: the ids and results of the chunks earlier attempts committed."""
    started_at: dt.datetime | None = None
    status: str | None = None
    """The run's status when it was not claimed."""


class Running(NamedTuple):
    """A run going on (or left going on by a process that died)."""

    id: int
    attempt: int
    payload: Any
    worker: str | None
    """The process that claimed it (:func:`flexorm.background.processes.worker_name`)."""
    running_at: dt.datetime | None
    """When its attempt started."""


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    """What a cancel request found: the run's status before it, and its queue job."""

    found: bool
    status: str | None = None
    job_id: int | None = None

    @property
    def cancelled_now(self) -> bool:
        """The run was queued: it is ``cancelled`` and will never start."""
        return self.status == "queued"

    @property
    def stopping(self) -> bool:
        """The run is running: it stops at its next progress call or statement."""
        return self.status == "running"


def _duration_ms(started_at: dt.datetime, finished_at: dt.datetime) -> int:
    return max(0, round((as_utc(finished_at) - as_utc(started_at)).total_seconds() * 1000))


def _finish_values(status: RunStatus, started_at: dt.datetime, *, result: Any = None,
                   error: str | None = None, now: dt.datetime | None = None,
                   extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The columns of a run that ends ``status``, and ``extra`` ones (its last progress). A
    ``cancelled`` run was asked to stop, and says so in ``cancel_requested`` whether or not
    its process wrote the flag while it ran (a process cancelling a run of its own stops it
    directly: on SQLite the flag would wait for the run's own lock)."""
    finished = now or utcnow()
    values = {"status": status, "result": jsonable(result),
              "error": stored_text(error, ERROR_LENGTH),
              "finished_at": finished, "duration_ms": _duration_ms(started_at, finished),
              "payload": None}
    if status == "cancelled":
        values["cancel_requested"] = True
    values.update(extra or {})
    return values


def _dialect(db: AsyncExecutor) -> sa.Dialect:
    return db.dialect if isinstance(db, AsyncConnection) else db.get_bind().dialect


def _changed(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _bound(name: str, column: str) -> sa.BindParameter[Any]:
    return sa.bindparam(name, type_=_runs[column].type)


_CLAIM_NOW = _bound("p_now", "running_at")
_CLAIM = (action_runs.update()
          .where(_runs.id == _bound("p_run", "id"), _runs.background.is_(True),
                 _runs.status == "queued", _runs.cancel_requested.is_(False),
                 sa.or_(_runs.expires_at.is_(None), _runs.expires_at > _CLAIM_NOW))
          .values(status="running", attempts=_runs.attempts + 1, running_at=_CLAIM_NOW,
                  worker=_bound("p_worker", "worker"))
          .returning(_runs.attempts, _runs.payload, _runs.started_at, _runs.checkpoint))
"""A worker's claim of a queued run, built once: a run is claimed per job, and building and
keying the statement anew cost about as much as sending it."""


_SET_JOB = action_runs.update().where(_runs.id == _bound("p_run", "id")) \
    .values(job_id=_bound("v_job_id", "job_id"))


@dataclass(frozen=True, slots=True)
class _OnDriver:
    """A statement compiled once for a dialect, to send on the driver's own connection: its SQL,
    the parameters that are the same every time (its literal values), and the bind processors
    of the others (JSON columns). Building the statement's parameters is then a dict merge,
    where SQLAlchemy's ``construct_params`` walks every bind each time."""

    sql: str
    fixed: Mapping[str, Any]
    processors: tuple[tuple[str, Any], ...]

    @classmethod
    def compile(cls, statement: sa.ClauseElement, dialect: sa.Dialect,
                names: tuple[str, ...]) -> _OnDriver:
        """``statement`` for ``dialect``; ``names``: the parameters given at each call."""
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        fixed = dict(compiled.construct_params(dict.fromkeys(names)) or {})
        processors = []
        for name in names:
            del fixed[name]
            bind = compiled.binds[name]
            process = dialect.type_descriptor(bind.type).bind_processor(dialect)
            if process is not None:
                processors.append((name, process))
        return cls(str(compiled), fixed, tuple(processors))

    def params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The statement's parameters, given the values of its per-call ones."""
        bound = {**self.fixed, **values}
        for name, process in self.processors:
            bound[name] = process(bound[name])
        return bound


@functools.cache
def _claim_on_driver(dialect: sa.Dialect) -> _OnDriver:
    return _OnDriver.compile(_CLAIM, dialect, ("p_run", "p_now", "p_worker"))


@functools.cache
def _attempt_update(columns: tuple[str, ...]) -> sa.Update:
    """``UPDATE`` of ``columns`` of a run whose ``attempt`` is still its current one (built
    once per set of columns; parameters ``p_run``, ``p_attempt`` and ``v_<column>``)."""
    return (action_runs.update()
            .where(_runs.id == _bound("p_run", "id"), _runs.status == "running",
                   _runs.attempts == _bound("p_attempt", "attempts"))
            .values({name: _bound(f"v_{name}", name) for name in columns}))


@functools.cache
def _update_on_driver(columns: tuple[str, ...], dialect: sa.Dialect) -> _OnDriver:
    """:func:`_attempt_update` of ``columns`` compiled for ``dialect`` once."""
    return _OnDriver.compile(_attempt_update(columns), dialect,
                             ("p_run", "p_attempt", *(f"v_{name}" for name in columns)))


def _psycopg(conn: sa.Connection) -> Any | None:
    """The DBAPI connection under ``conn`` when it is psycopg's: psycopg's own blocking
    connection under a blocking engine, SQLAlchemy's adapter of psycopg's async one under an
    async engine (the same interface, awaited for the caller: an async body's steps run where
    that works). ``None`` on any other database or driver."""
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        return None
    return conn.connection.dbapi_connection


class RunStore:
    """Reads and moves background runs."""

    # -- enqueue ------------------------------------------------------------------------------

    @staticmethod
    def _queued(entry: RunEntry, payload: Mapping[str, Any],
                expires_at: dt.datetime | None) -> dict[str, Any]:
        values = entry.row()
        values.update(background=True, payload=jsonable(payload), expires_at=expires_at,
                      status="queued", finished_at=None, duration_ms=None)
        return values

    async def enqueue(self, db: AsyncExecutor, entry: RunEntry, payload: Mapping[str, Any],
                      expires_at: dt.datetime | None) -> int:
        """Add a ``queued`` run; its id."""
        return inserted_id(await db.execute(INSERT_RUN, self._queued(entry, payload, expires_at)))

    def enqueue_sync(self, db: SyncExecutor, entry: RunEntry, payload: Mapping[str, Any],
                     expires_at: dt.datetime | None) -> int:
        """:meth:`enqueue` on a blocking connection or session."""
        return inserted_id(db.execute(INSERT_RUN, self._queued(entry, payload, expires_at)))

    async def set_job(self, db: AsyncExecutor, run_id: int, job_id: int) -> None:
        """Remember the queue's job of a run."""
        await db.execute(_SET_JOB, {"p_run": run_id, "v_job_id": job_id})

    # -- a worker's side ----------------------------------------------------------------------

    async def claim(self, db: AsyncExecutor, run_id: int, worker: str, *,
                    reclaim: bool = False) -> Claimed:
        """Start a queued run: ``claimed`` (now ``running``, one more attempt), or why not.

        A run cancelled while queued becomes ``cancelled``, one past its ``expires_at``
        ``expired``; neither runs. Where the database returns rows from an ``UPDATE``, the
        usual case (a queued run, neither cancelled nor expired) is one statement, built once.

        ``reclaim``: the caller sent this claim before and lost the answer with its connection
        (a database restart): a run ``running`` under this very ``worker`` name (unique per
        process start) is that claim, and is answered as ``claimed``.
        """
        now = utcnow()
        if _dialect(db).update_returning:
            claimed = (await db.execute(_CLAIM, {"p_run": run_id, "p_now": now,
                                                 "p_worker": worker[:255]})).first()
            if claimed is not None:
                return Claimed("claimed", run_id, attempt=int(claimed.attempts),
                               payload=claimed.payload, started_at=claimed.started_at,
                               checkpoint=claimed.checkpoint)
        row = (await db.execute(
            sa.select(_runs.status, _runs.attempts, _runs.expires_at, _runs.cancel_requested,
                      _runs.payload, _runs.started_at, _runs.checkpoint, _runs.worker)
            .where(_runs.id == run_id, _runs.background.is_(True)))).first()
        if row is None:
            return Claimed("missing", run_id)
        if reclaim and row.status == "running" and row.worker == worker[:255]:
            return Claimed("claimed", run_id, attempt=int(row.attempts), payload=row.payload,
                           started_at=row.started_at, checkpoint=row.checkpoint)
        if row.status != "queued":
            return Claimed("not_queued", run_id, status=row.status)
        queued = action_runs.update().where(_runs.id == run_id, _runs.status == "queued")
        if row.cancel_requested:
            await db.execute(queued.values(**_finish_values(
                "cancelled", row.started_at, error="cancelled before it started", now=now)))
            return Claimed("cancelled", run_id)
        if row.expires_at is not None and as_utc(row.expires_at) <= now:
            await db.execute(queued.values(**_finish_values(
                "expired", row.started_at, error="not started before it expired", now=now)))
            return Claimed("expired", run_id)
        attempt = int(row.attempts) + 1
        changed = await db.execute(queued.values(status="running", attempts=attempt,
                                                 running_at=now, worker=worker[:255]))
        if _changed(changed) != 1:
            return Claimed("not_queued", run_id, status="running")
        return Claimed("claimed", run_id, attempt=attempt, payload=row.payload,
                       started_at=row.started_at, checkpoint=row.checkpoint)

    async def claim_on_driver(self, driver: Any, dialect: sa.Dialect, run_id: int,
                              worker: str) -> Claimed | None:
        """:meth:`claim`'s usual case on PostgreSQL, sent straight on the driver's own async
        connection (psycopg's, in autocommit): the same statement, compiled once, without
        SQLAlchemy's work per statement (about half a claim's time). ``None`` when the run was
        not simply waiting for a worker (cancelled, expired, taken, missing): :meth:`claim`
        then finds out which."""
        claim = _claim_on_driver(dialect)
        params = claim.params({"p_run": run_id, "p_now": utcnow(), "p_worker": worker[:255]})
        async with driver.cursor() as cursor:
            await cursor.execute(claim.sql, params)
            row = await cursor.fetchone()
        if row is None:
            return None
        attempts, stored, started_at, checkpoint = row
        return Claimed("claimed", run_id, attempt=int(attempts), payload=stored,
                       started_at=started_at, checkpoint=checkpoint)

    async def finish_on_driver(self, driver: Any, dialect: sa.Dialect, run_id: int,
                               attempt: int, status: RunStatus, started_at: dt.datetime, *,
                               result: Any = None, error: str | None = None,
                               extra: Mapping[str, Any] | None = None) -> bool:
        """:meth:`finish` sent straight on the driver's own async connection (psycopg's, in
        autocommit), compiled once, as :meth:`claim_on_driver` is: a run's end when nothing
        else is in its transaction."""
        values = _finish_values(status, started_at, result=result, error=error, extra=extra)
        _, params = self._finish(run_id, attempt, values)
        update = _update_on_driver(tuple(sorted(values)), dialect)
        async with driver.cursor() as cursor:
            await cursor.execute(update.sql, update.params(params))
            return int(cursor.rowcount) == 1

    @staticmethod
    def _finish(run_id: int, attempt: int,
                values: Mapping[str, Any]) -> tuple[sa.Update, dict[str, Any]]:
        """The conditional ``UPDATE`` of an attempt (built once per set of columns) and its
        parameters."""
        params = {f"v_{name}": value for name, value in values.items()}
        params.update(p_run=run_id, p_attempt=attempt)
        return _attempt_update(tuple(sorted(values))), params

    async def finish(self, db: AsyncExecutor, run_id: int, attempt: int, status: RunStatus,
                     started_at: dt.datetime, *, result: Any = None, error: str | None = None,
                     extra: Mapping[str, Any] | None = None) -> bool:
        """End an attempt: whether it was still this run's current attempt (a stale attempt
        changes nothing). ``extra``: more columns (the last progress)."""
        values = _finish_values(status, started_at, result=result, error=error, extra=extra)
        return _changed(await db.execute(*self._finish(run_id, attempt, values))) == 1

    def _update_sync(self, db: SyncExecutor, run_id: int, attempt: int,
                     values: Mapping[str, Any], *, closing: bool) -> int:
        """Send an attempt's conditional ``UPDATE`` in the transaction of ``db``; how many rows
        it changed.

        On psycopg (a sync body's blocking session, or an async body's session, whose steps run
        where the async driver can be awaited) it goes on the DBAPI connection, compiled once:
        a run's completion skips SQLAlchemy's work per statement, as a claim does (about a
        quarter of the worker's CPU for the statement). A driver error is raised as
        SQLAlchemy's, as from any statement.

        ``closing``: nothing follows it in its transaction but the commit. When the transaction
        has sent nothing else either (a body that read and wrote nothing), the ``UPDATE`` is all
        it holds, so it commits by itself: one round trip, where a transaction takes three
        (``BEGIN``, the ``UPDATE``, ``COMMIT``; the session's commit then sends nothing)."""
        statement, params = self._finish(run_id, attempt, values)
        conn = db.connection() if isinstance(db, Session) else db
        driver = _psycopg(conn)
        if driver is None:
            return _changed(db.execute(statement, params))
        import psycopg

        update = _update_on_driver(tuple(sorted(values)), conn.dialect)
        sql, bound = update.sql, update.params(params)
        alone = closing and not driver.autocommit \
            and driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        try:
            if alone:
                driver.autocommit = True
            cursor = driver.cursor()
            try:
                cursor.execute(sql, bound)
                return int(cursor.rowcount)
            finally:
                cursor.close()
        except conn.dialect.loaded_dbapi.Error as exc:
            raise sa.exc.DBAPIError.instance(sql, bound, exc,
                                             conn.dialect.loaded_dbapi.Error) from exc
        finally:
            if alone and not driver.closed:
                with contextlib.suppress(Exception):  # a broken connection is dropped
                    driver.autocommit = False

    def finish_sync(self, db: SyncExecutor, run_id: int, attempt: int, status: RunStatus,
                    started_at: dt.datetime, *, result: Any = None, error: str | None = None,
                    extra: Mapping[str, Any] | None = None, closing: bool = False) -> bool:
        """:meth:`finish` on a blocking connection or session, in its transaction;
        ``closing``: the transaction's last statement (see :meth:`_update_sync`)."""
        values = _finish_values(status, started_at, result=result, error=error, extra=extra)
        return self._update_sync(db, run_id, attempt, values, closing=closing) == 1

    def checkpoint_sync(self, db: SyncExecutor, run_id: int, attempt: int,
                        checkpoint: Mapping[str, Any], *, closing: bool = False) -> bool:
        """``atomic=False``: the committed chunks so far, written in the chunk's own
        transaction; whether the attempt is still current. ``closing``: as for
        :meth:`finish_sync`."""
        values = {"checkpoint": jsonable(dict(checkpoint))}
        return self._update_sync(db, run_id, attempt, values, closing=closing) == 1

    async def checkpoint(self, db: AsyncExecutor, run_id: int, attempt: int,
                         checkpoint: Mapping[str, Any]) -> bool:
        """:meth:`checkpoint_sync` on an async connection (a separate state database)."""
        values = {"checkpoint": jsonable(dict(checkpoint))}
        return _changed(await db.execute(*self._finish(run_id, attempt, values))) == 1

    async def report(self, db: AsyncExecutor, run_id: int, attempt: int, *,
                     done: int | None = None, total: int | None = None,
                     message: str | None = None, progress: bool = False) -> bool | None:
        """Write progress (with ``progress=True``) and read back whether a cancel was asked;
        ``None`` when the attempt is no longer current."""
        where = (_runs.id == run_id, _runs.status == "running", _runs.attempts == attempt)
        if progress:
            await db.execute(action_runs.update().where(*where).values(
                progress_done=done, progress_total=total, progress_message=message))
        row = (await db.execute(sa.select(_runs.cancel_requested).where(*where))).first()
        return None if row is None else bool(row.cancel_requested)

    # -- control ------------------------------------------------------------------------------

    async def request_cancel(self, db: AsyncExecutor, run_id: int) -> CancelOutcome:
        """Ask a run to stop: a queued one is ``cancelled`` at once, a running one is flagged
        (its process stops it); a finished one is left alone."""
        row = (await db.execute(
            sa.select(_runs.status, _runs.job_id, _runs.started_at)
            .where(_runs.id == run_id, _runs.background.is_(True)))).first()
        if row is None:
            return CancelOutcome(found=False)
        if row.status == "queued":
            changed = await db.execute(
                action_runs.update().where(_runs.id == run_id, _runs.status == "queued")
                .values(**_finish_values("cancelled", row.started_at,
                                         error="cancelled before it started")))
            if _changed(changed) == 1:
                return CancelOutcome(True, "queued", row.job_id)
            return await self.request_cancel(db, run_id)  # it started meanwhile
        if row.status == "running":
            await db.execute(action_runs.update()
                             .where(_runs.id == run_id, _runs.status == "running")
                             .values(cancel_requested=True))
        return CancelOutcome(True, row.status, row.job_id)

    async def get(self, db: AsyncExecutor, run_id: int) -> RunEntry | None:
        """One run, or ``None``."""
        row = (await db.execute(sa.select(action_runs).where(_runs.id == run_id))).mappings() \
            .first()
        return RunEntry.from_row(dict(row)) if row is not None else None

    # -- sweeping -----------------------------------------------------------------------------

    async def queued(self, db: AsyncExecutor, *, limit: int = 100,
                     without_job: bool = False,
                     older_than: dt.datetime | None = None) -> list[int]:
        """Ids of queued runs, oldest first (``without_job``: never handed to the queue)."""
        query = sa.select(_runs.id).where(_runs.status == "queued", _runs.background.is_(True))
        if without_job:
            query = query.where(_runs.job_id.is_(None))
        if older_than is not None:
            query = query.where(_runs.started_at < older_than)
        rows = await db.execute(query.order_by(_runs.id).limit(limit))
        return [int(row.id) for row in rows]

    async def running(self, db: AsyncExecutor, *, worker_not: str | None = None,
                      worker_like: str | None = None,
                      run_id: int | None = None) -> list[Running]:
        """Running runs: of other workers than one, of workers named like a pattern, or one
        run."""
        query = sa.select(_runs.id, _runs.attempts, _runs.payload, _runs.worker,
                          _runs.running_at).where(
            _runs.status == "running", _runs.background.is_(True))
        if run_id is not None:
            query = query.where(_runs.id == run_id)
        if worker_not is not None:
            query = query.where(sa.or_(_runs.worker.is_(None), _runs.worker != worker_not))
        if worker_like is not None:
            query = query.where(_runs.worker.like(worker_like))
        return [Running(int(r.id), int(r.attempts), r.payload, r.worker, r.running_at)
                for r in await db.execute(query)]

    async def recover(self, db: AsyncExecutor, run_id: int, attempt: int,
                      retries: int) -> Literal["requeued", "interrupted", "gone"]:
        """A run whose process died mid-attempt (its transaction rolled back with it): queued
        again while it has retries left, else ``interrupted``."""
        row = (await db.execute(sa.select(_runs.started_at).where(_runs.id == run_id))).first()
        if row is None:
            return "gone"
        if attempt <= retries:
            changed = await db.execute(*self._finish(run_id, attempt, {
                "status": "queued", "worker": None, "job_id": None, "progress_done": None,
                "progress_total": None, "progress_message": None}))
            return "requeued" if _changed(changed) == 1 else "gone"
        values = _finish_values("interrupted", row.started_at,
                                error="its worker stopped mid-run; rolled back")
        changed = await db.execute(*self._finish(run_id, attempt, values))
        return "interrupted" if _changed(changed) == 1 else "gone"

    async def expire_overdue(self, db: AsyncExecutor) -> int:
        """Queued runs past their ``expires_at`` become ``expired``; how many."""
        now = utcnow()
        rows = (await db.execute(sa.select(_runs.id, _runs.started_at).where(
            _runs.status == "queued", _runs.expires_at.is_not(None),
            _runs.expires_at <= now))).all()
        count = 0
        for row in rows:
            count += _changed(await db.execute(
                action_runs.update().where(_runs.id == row.id, _runs.status == "queued")
                .values(**_finish_values("expired", row.started_at,
                                         error="not started before it expired", now=now))))
        return count

    async def prune(self, db: AsyncExecutor, before: dt.datetime) -> int:
        """Delete finished runs (of every kind) that started before ``before``; how many."""
        result = await db.execute(action_runs.delete().where(
            _runs.status.in_(FINISHED_STATUSES), _runs.started_at < before))
        return _changed(result)


STATUS_ACTION = "flexorm_run_status"
"""The built-in common action that shows a queued run (its status, progress, result)."""
CANCEL_ACTION = "flexorm_cancel_run"
"""The built-in common action that cancels a queued or running run."""


def queued_answer(run_id: int) -> dict[str, Any]:
    """The ``execute_action`` answer of a queued run (and the replay of its idempotency key).

    Examples:
        >>> queued_answer(7)
        {'result': {'run': '7', 'status': 'queued'}}
    """
    return {"result": {"run": str(run_id), "status": "queued"}}
