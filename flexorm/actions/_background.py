"""Background actions on the action layer's side: what a queued run stores to run later, and
the hook that marks its run ``succeeded`` in the run's own transaction.

Queuing is an ordinary ``execute_action`` whose body is not called (the runner's ``defer``): the
parameters, ids, records, permission policy and idempotency key are checked exactly as for a
direct run, and the queued row commits in that transaction. Running it later is an ordinary
``execute_action`` too, rebuilt from the stored payload, whose success hook is
:class:`Completion`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Session

from flexorm.actions._transaction import began
from flexorm.actions.binding import BoundAction
from flexorm.actions.run_control import RunControl
from flexorm.auth.caller import Caller
from flexorm.journal import Journal
from flexorm.journal.entry import error_text, jsonable, utcnow
from flexorm.protocol.requests import ExecuteRequest

__all__ = ["ChunkDone", "Completion", "Queued", "Superseded", "payload", "request_of"]

logger = logging.getLogger("flexorm.background")


class Superseded(Exception):
    """This attempt of a run is no longer its current one (its worker was presumed dead and
    the run queued again): its writes are rolled back."""


@dataclasses.dataclass(frozen=True, slots=True)
class Queued:
    """What a background action's run stores when it is queued."""

    payload: Mapping[str, Any]
    expires_at: dt.datetime | None


def payload(bound: BoundAction, request: ExecuteRequest, caller: Caller,
            request_id: str | None) -> Queued:
    """The queued run of ``request``: the request and caller as sent (secrets included: the
    payload is cleared when the run finishes; a ``preview_token`` too, checked when the run
    runs), and the action's run options."""
    declaration = bound.declaration
    expires_at = (utcnow() + dt.timedelta(seconds=declaration.expires_after)
                  if declaration.expires_after is not None else None)
    return Queued(
        payload={
            "request": {"action": request.action, "model": request.model,
                        "ids": list(request.ids) if request.ids is not None else None,
                        "inverse": request.inverse, "single": request.single,
                        "params": jsonable(dict(request.params)),
                        "preview_token": request.preview_token},
            "caller": jsonable(dataclasses.asdict(caller)),
            "request_id": request_id,
            "retries": declaration.retries,
            "deadline": declaration.deadline,
        },
        expires_at=expires_at,
    )


def request_of(stored: Mapping[str, Any]) -> tuple[ExecuteRequest, Caller]:
    """The request and caller a queued run's payload holds."""
    raw = stored["request"]
    request = ExecuteRequest(
        action=raw["action"], model=raw["model"],
        ids=tuple(raw["ids"]) if raw["ids"] is not None else None,
        inverse=bool(raw["inverse"]), single=bool(raw["single"]), params=dict(raw["params"]),
        preview_token=raw.get("preview_token"))
    who = dict(stored["caller"])
    who["permissions"] = tuple(who.get("permissions") or ())
    who["claims"] = dict(who.get("claims") or {})
    return request, Caller(**who)


@dataclasses.dataclass(slots=True)
class Completion:
    """Marks a run ``succeeded``, in the run's own transaction when the journal shares the
    database (writes, journal row and completion commit together: a retried job finds the run
    finished and does nothing), else right after the commit."""

    journal: Journal
    control: RunControl
    started_at: dt.datetime
    writes: bool = True
    """The action may write: see :meth:`~flexorm.journal.Journal.in_transaction`."""
    alone: bool = False
    """The run's transaction sent nothing (a body of no statement, in a background run):
    there is nothing to commit its end with, which is written after it, by itself."""

    def _progress(self) -> dict[str, Any]:
        last = self.control.unwritten_progress()
        if last is None:
            return {}
        return {"progress_done": last.done, "progress_total": last.total,
                "progress_message": last.message}

    def _stale(self) -> Superseded:
        return Superseded(f"run {self.control.run_id}: attempt {self.control.attempt} is no "
                          "longer current")

    def _kept(self, result: Any, error: str | None = None) -> tuple[Any, str | None]:
        """What the run's row keeps of ``result``, and its note: the result and ``error`` when
        the journal keeps it, else no result and why not (:meth:`Journal.keep`), after
        ``error``."""
        kept = self.journal.keep(result)
        if kept.whole:
            return result, error
        return None, kept.note if error is None else f"{error}; {kept.note}"

    def write(self, session: Session, result: Any,
              changes: Mapping[str, Mapping[str, int]] | None = None) -> None:
        """In the run's transaction, on its blocking session, as its last statement: the run
        ``succeeded``, with its result when the journal keeps it (:meth:`_kept`)."""
        self.control.check()
        if not self.journal.in_transaction(self.writes):
            return
        if not began(session):
            self.alone = True
            return
        kept, note = self._kept(result)
        if not self.journal.background.finish_sync(
                session, self.control.run_id, self.control.attempt, "succeeded",
                self.started_at, result=kept, error=note, extra=self._progress(), closing=True):
            raise self._stale()

    async def finish(self, result: Any) -> None:
        """In a transaction of its own: the run ``succeeded`` (``atomic=False``, once every
        chunk committed; see :meth:`_succeeded`), saying which chunks' results are left out."""
        notes = []
        left_out = self.control.results_left_out
        if left_out:
            notes.append(f"the run succeeded, but the state database refused the result of "
                         f"{left_out} of its chunks: it is left out")
        not_kept = self.control.results_not_kept
        if not_kept:
            notes.append(f"the result of {not_kept} of its chunks is left out: with it, the "
                         "chunks' results were larger than journal_result_limit "
                         f"({self.journal.result_limit:,})")
        if not await self._succeeded(result, "; ".join(notes) or None):
            raise self._stale()

    async def committed(self, result: Any) -> None:
        """After the commit, when the run's transaction did not record it (a separate state
        database, a read-only action on SQLite, a transaction that sent nothing): its
        completion (see :meth:`_succeeded`); by itself, on the running process's own
        connection, when it has one (:attr:`RunControl.finish_alone`)."""
        finish = self.control.finish_alone
        if self.alone and finish is not None:
            kept, note = self._kept(result)
            with contextlib.suppress(Exception):  # its connection lost: the journal's way
                if await finish(kept, note, self._progress()) is not None:
                    return
        if self.alone or not self.journal.in_transaction(self.writes):
            await self._succeeded(result)

    async def _succeeded(self, result: Any, error: str | None = None) -> bool:
        """The run ``succeeded``, written after its effects committed, in a transaction of its
        own: tried again until the state database answers, and, since the effects are there
        whatever becomes of the result, written without a result the journal does not keep
        (larger than its limit: :meth:`_kept`) or the state database refuses for good (a
        constraint of the user's, a limit set beyond MariaDB's ``max_allowed_packet``), the
        error saying why. Whether the attempt was still current."""
        extra = self._progress()
        current = True
        result, error = self._kept(result, error)

        async def write(conn: AsyncConnection, *, kept: Any, note: str | None) -> None:
            nonlocal current
            current = await self.journal.background.finish(
                conn, self.control.run_id, self.control.attempt, "succeeded", self.started_at,
                result=kept, error=note, extra=extra)

        what = f"run {self.control.run_id} succeeded"
        try:
            await self.journal.write_when_reachable(what, functools.partial(
                write, kept=result, note=error))
        except Exception as exc:
            refusal = error_text(exc)
            logger.warning("%s, but the state database refused its result: %s", what, refusal)
            note = f"the run succeeded, but the state database refused its result: {refusal}"
            await self.journal.write_when_reachable(what, functools.partial(
                write, kept=None, note=note))
        return current


@dataclasses.dataclass(slots=True)
class ChunkDone:
    """``atomic=False``: a chunk's ids and result, recorded in the chunk's own transaction
    (a separate state database: right after), so that a retry resumes after it."""

    journal: Journal
    control: RunControl
    chunk: tuple[Any, ...]
    bulk: bool = False
    """The body takes the whole chunk (one result per chunk), not one record at a time (one
    result per record)."""
    written: dict[str, Any] | None = None
    size: int = 0
    """Bytes of the JSON of this chunk's result, as the checkpoint keeps it (0: left out)."""
    over_limit: bool = False
    """With this chunk's result, the checkpoint's results would be larger than the journal
    keeps (``journal_result_limit``): it is left out."""

    def _next(self, kept: Any) -> dict[str, Any]:
        """The checkpoint once this chunk is in, ``kept`` as its result."""
        done = self.control.checkpoint
        return {"ids": [*done["ids"], *jsonable(list(self.chunk))],
                "results": [*done["results"], kept]}

    def _left_out(self) -> Any:
        """The result of a chunk whose result is left out: ``None``, one per record."""
        return None if self.bulk else [None] * len(self.chunk)

    def write(self, session: Session, result: Any,
              changes: Mapping[str, Mapping[str, int]] | None = None) -> None:
        """In the chunk's transaction, on its blocking session, as its last statement; the
        chunk's result left out once the checkpoint's results would be larger than the journal
        keeps (a checkpoint beyond MariaDB's ``max_allowed_packet`` would fail the chunk)."""
        self.control.check()
        one = not self.bulk and len(self.chunk) == 1  # a one-record chunk: a list of one
        if one:
            result = [result]
        kept = self.journal.keep(result)
        self.over_limit = self.control.results_size + kept.size > self.journal.result_limit
        self.size = 0 if self.over_limit else kept.size
        self.written = self._next(self._left_out() if self.over_limit else result)
        if self.journal.shared and not self.journal.background.checkpoint_sync(
                session, self.control.run_id, self.control.attempt, self.written,
                closing=True):
            raise Superseded(f"run {self.control.run_id}: attempt {self.control.attempt} is "
                             "no longer current")

    async def committed(self) -> None:
        """After the chunk's commit: the checkpoint kept (and written, with a separate state
        database: tried again until that database answers; a result it refuses for good is
        left out, so that a retry still resumes after the chunk)."""
        written = self.written
        assert written is not None
        if not self.journal.shared:
            what = f"run {self.control.run_id} committed a chunk"

            async def write(conn: AsyncConnection, *, checkpoint: Mapping[str, Any]) -> None:
                await self.journal.background.checkpoint(conn, self.control.run_id,
                                                         self.control.attempt, checkpoint)

            try:
                await self.journal.write_when_reachable(what, functools.partial(
                    write, checkpoint=written))
            except Exception as exc:
                logger.warning("%s, but the state database refused its result: %s", what,
                               error_text(exc))
                written = self._next(self._left_out())
                await self.journal.write_when_reachable(what, functools.partial(
                    write, checkpoint=written))
                self.control.results_left_out += 1
                self.size = 0
        if self.over_limit:
            self.control.results_not_kept += 1
        self.control.results_size += self.size
        self.control.checkpoint = written
