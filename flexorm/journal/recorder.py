"""``Journal``: the journal and idempotency keys of one runtime, in the order a request needs.

One request with ``execute_action``::

    claim = await journal.claim(key, request)          # only with a key; own transaction
    if not claim.owned: replay claim.response, or raise claim.conflict()
    -- the action's transaction --
        ... body ...
        journal.succeeded(session, entry, answer)      # the blocking session (run_sync)
    -- committed --
    await journal.committed(entry, answer)             # when not recorded in the transaction
    -- or, on any failure or rejection, after the rollback --
    await journal.failed(entry)                        # row + key released; own transaction

With the journal in the main database (the default) the success row and the key's answer
commit with the action's writes. With a separate state database they are written right after
the action commits (see ``docs/journal.md`` for that trade-off).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from flexorm._url import async_url
from flexorm.auth.caller import Caller
from flexorm.database import packet_limit, pooled
from flexorm.db_errors import Kind, classify
from flexorm.exceptions import ConcurrencyConflict, DatabaseBusy
from flexorm.journal.entry import RunEntry
from flexorm.journal.idempotency import Claim, IdempotencyStore, fingerprint
from flexorm.journal.kept import Kept, keep
from flexorm.journal.runs import RunStore, queued_answer
from flexorm.journal.store import JournalStore, SyncExecutor
from flexorm.protocol.requests import ExecuteRequest
from flexorm.settings import Settings

__all__ = ["Journal"]

logger = logging.getLogger("flexorm.journal")

_RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)
"""Waits between tries of a write the state database cannot take now (the last one repeated)."""
ROW_ROOM = 64 * 1024
"""Bytes a run's row keeps for what it holds besides its result (its params, its error...)."""

_NOT_NOW: frozenset[Kind] = frozenset({"unavailable", "read_only", "busy", "lock_timeout",
                                       "deadlock", "serialization"})
"""Why the state database may not take a write now but will later: it cannot be reached, it
is read-only (a failover under way), its connections are all in use, or another transaction
holds the rows (or, on SQLite, the database) it writes."""
LATER_SECONDS = 60.0
"""How long a row written in the background (:meth:`Journal.failed_later`) is tried for."""
CLOSING_SECONDS = 5.0
"""How long closing the journal waits for the rows still being written in the background."""


class Journal:
    """The journal of one runtime.

    Args:
        engine: the engine of the database holding flexorm's tables.
        shared: that database is the one actions write to, so a success is recorded in the
            action's own transaction.
        keys: the idempotency store (its time to live and lease).
        result_limit: the largest result kept, in bytes of its JSON (see :meth:`keep`).
    """

    def __init__(self, engine: AsyncEngine, *, shared: bool,
                 keys: IdempotencyStore | None = None, owns_engine: bool = False,
                 result_limit: int = Settings.journal_result_limit) -> None:
        self.engine = engine
        self.shared = shared
        self.result_limit = result_limit
        self.runs = JournalStore()
        self.background = RunStore()
        self.keys = keys if keys is not None else IdempotencyStore()
        self._owns_engine = owns_engine
        self._later: set[asyncio.Task[None]] = set()
        """Rows being written in the background (:meth:`failed_later`)."""

    @classmethod
    def open(cls, settings: Settings, main: AsyncEngine) -> Journal:
        """The journal for ``settings``: in ``state_url`` when set (with an engine of its own,
        closed by :meth:`dispose`), else in the main database on ``main``."""
        keys = IdempotencyStore(ttl=dt.timedelta(seconds=settings.idempotency_ttl_seconds))
        limit = settings.journal_result_limit
        if not settings.state_url:
            return cls(main, shared=True, keys=keys, result_limit=limit)
        return cls(pooled(create_async_engine, async_url(settings.state_url),
                          **settings.pool_options),
                   shared=False, keys=keys, owns_engine=True, result_limit=limit)

    async def fit_packet(self) -> None:
        """Lower :attr:`result_limit` to what one statement of the state database holds, when
        it is MySQL or MariaDB and the limit is above that (a row holds its result escaped, up
        to twice its size): a larger result would make its row's statement too large, refused
        every time (the action's own transaction, when the journal shares its database).
        Logged once, at startup."""
        packet = await packet_limit(self.engine)
        if packet is None:
            return
        room = max(0, packet // 2 - ROW_ROOM)
        if self.result_limit > room:
            logger.warning("journal_result_limit (%s bytes) lowered to %s: the state database "
                           "takes statements of up to %s bytes (max_allowed_packet), and a "
                           "run's row holds its result escaped", f"{self.result_limit:,}",
                           f"{room:,}", f"{packet:,}")
            self.result_limit = room

    def keep(self, result: Any) -> Kept:
        """``result`` as a run's row keeps it: whole up to :attr:`result_limit` bytes of JSON,
        else not at all, with a note saying so (:mod:`flexorm.journal.kept`)."""
        return keep(result, self.result_limit)

    async def write_when_reachable(self, what: str,
                                   write: Callable[[AsyncConnection], Awaitable[Any]], *,
                                   give_up_after: float | None = None) -> None:
        """Run ``write`` in a transaction of its own, tried again while the state database
        cannot take it now (it cannot be reached, or another transaction holds what it writes:
        a lock wait that timed out, a deadlock): for what must be recorded because it already
        happened (a run's committed effects, its failure or interruption), so that a run never
        stays ``running`` while its process lives on, and a run whose effects committed is
        never recorded ``failed`` because its row was busy.

        Any other error is raised, and so is the process's stop (cancellation). With
        ``give_up_after`` (seconds), the last such error is raised once that much time has
        passed (a stopping process cannot wait for ever).
        """
        loop = asyncio.get_running_loop()
        deadline = None if give_up_after is None else loop.time() + give_up_after
        tries = 0
        while True:
            try:
                async with self.engine.begin() as conn:
                    await write(conn)
                return
            except Exception as exc:
                kind = classify(exc)
                if kind not in _NOT_NOW:
                    raise
                wait = _RETRY_SECONDS[min(tries, len(_RETRY_SECONDS) - 1)]
                if deadline is not None and loop.time() + wait > deadline:
                    raise
                tries += 1
                why = {"unavailable": "cannot be reached",
                       "read_only": "takes no writes (read-only)"}.get(kind, f"is busy ({kind})")
                logger.warning("%s: the state database %s (%s); trying again in %gs", what, why,
                               exc.__class__.__name__, wait)
                await asyncio.sleep(wait)

    async def dispose(self) -> None:
        """Let the rows still being written land (for a few seconds at most), then close the
        state database's engine, when the journal opened one."""
        if self._later:
            _, pending = await asyncio.wait(self._later, timeout=CLOSING_SECONDS)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._owns_engine:
            await self.engine.dispose()

    async def claim(self, key: str, request: ExecuteRequest,
                    caller: Caller | None = None) -> Claim:
        """Claim ``key`` for ``request`` in a transaction of its own, committed at once.

        With ``caller``, the key is also bound to who sent the request: the same key and
        payload from another caller is a mismatch, never a replay of someone else's answer.
        """
        who = (caller.kind, caller.user_id, caller.key_name) if caller is not None else None
        print_ = fingerprint(request.action, request.model, request.ids, request.params,
                             inverse=request.inverse, caller=who)
        async with self.engine.connect() as conn:  # reading only: no write lock to wait for
            seen = await self.keys.peek(conn, key, request.action, print_)
        if seen is not None:
            return seen
        async with self.engine.begin() as conn:
            return await self.keys.claim(conn, key, request.action, print_)

    def in_transaction(self, writes: bool) -> bool:
        """Whether a run's success is recorded in the run's own transaction: when the journal
        is in the database the action works on, except for an action that only reads, on
        SQLite. Such a run holds SQLite's read lock only; its row would have to turn that into
        the database's one write lock, which SQLite refuses at once to all but one of the runs
        reading at the same time (they would deadlock otherwise): concurrent reports answered
        409. Its row is written right after, as with a separate state database; an action that
        writes nothing has no writes to commit with it."""
        return self.shared and (writes or self.engine.dialect.name != "sqlite")

    def succeeded(self, db: SyncExecutor, entry: RunEntry, answer: Any) -> None:
        """In the action's transaction, on its blocking session (an ``AsyncSession``'s own,
        through ``run_sync``): the row, and the key's answer (an
        :class:`~flexorm.journal.idempotency.AnswerNotKept` stores its marker, naming the row).
        Does nothing with a separate state database (see :meth:`committed`)."""
        if self.shared:
            run_id = self.runs.record_sync(db, entry)
            if entry.idempotency_key is not None:
                self.keys.complete_sync(db, entry.idempotency_key, answer, run_id=run_id)

    def enqueue(self, db: SyncExecutor, entry: RunEntry, payload: Any,
                expires_at: dt.datetime | None) -> int | None:
        """In the action's transaction: a queued run, and the key's answer naming it; its id.
        Does nothing (``None``) with a separate state database (see :meth:`enqueued`)."""
        if not self.shared:
            return None
        run_id = self.background.enqueue_sync(db, entry, payload, expires_at)
        if entry.idempotency_key is not None:
            self.keys.complete_sync(db, entry.idempotency_key, queued_answer(run_id))
        return run_id

    async def enqueued(self, entry: RunEntry, payload: Any,
                       expires_at: dt.datetime | None) -> int:
        """With a separate state database, after the checks committed: the queued run and
        the key's answer, in a transaction there; its id."""
        async with self.engine.begin() as conn:
            run_id = await self.background.enqueue(conn, entry, payload, expires_at)
            if entry.idempotency_key is not None:
                await self.keys.complete(conn, entry.idempotency_key, queued_answer(run_id))
            return run_id

    async def committed(self, entry: RunEntry, answer: Any) -> None:
        """After the action committed, for a run not recorded in its transaction (see
        :meth:`in_transaction`): the row and the key's answer (as :meth:`succeeded` stores
        them), in a transaction of their own."""
        async with self.engine.begin() as conn:
            run_id = await self.runs.record(conn, entry)
            if entry.idempotency_key is not None:
                await self.keys.complete(conn, entry.idempotency_key, answer, run_id=run_id)

    def blocked_by(self, exc: BaseException) -> bool:
        """Whether what stopped a run stops its row too: SQLite's one write lock, held by
        another process past the lock wait, when the journal is in that database; or every
        connection in use (the row needs one, and on SQLite that lock, most likely held by
        what holds them)."""
        if isinstance(exc, DatabaseBusy) or classify(exc) == "busy":
            return True
        return (isinstance(exc, ConcurrencyConflict) and exc.reason == "lock_timeout"
                and self.shared and self.engine.dialect.name == "sqlite")

    def failed_later(self, entry: RunEntry, *, release: bool = True) -> None:
        """:meth:`failed`, in the background, tried again until the database takes it: for a
        run that failed because another process held SQLite's one write lock past the lock
        wait, or because every connection was in use, whose row would wait for the same lock
        or connections a second time before the caller got its answer (and most likely meet
        them taken again)."""

        async def in_background() -> None:
            what = f"the {entry.status} run of action {entry.action!r}"
            write = functools.partial(self._record_failure, entry=entry, release=release)
            try:
                await self.write_when_reachable(what, write, give_up_after=LATER_SECONDS)
            except asyncio.CancelledError:
                logger.warning("%s was not recorded: the process stopped first", what)
            except Exception:
                logger.exception("could not record %s in the journal", what)

        task = asyncio.create_task(in_background(), name="flexorm journal row")
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    async def failed(self, entry: RunEntry, *, release: bool = True) -> None:
        """After a failure or rejection (the action's transaction rolled back): the row, and
        the key given back so that a retry runs again; in a transaction of its own.

        ``release=False`` keeps the key: the request never held it (an idempotency conflict,
        or a rejection before the key was claimed).
        """
        async with self.engine.begin() as conn:
            await self._record_failure(conn, entry=entry, release=release)

    async def _record_failure(self, conn: AsyncConnection, *, entry: RunEntry,
                              release: bool) -> None:
        await self.runs.record(conn, entry)
        if release and entry.idempotency_key is not None:
            await self.keys.release(conn, entry.idempotency_key)
