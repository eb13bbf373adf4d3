"""Recording one ``execute_action`` in the journal: its entry, status and error text.

:class:`Recording` is the :class:`~flexorm.actions._runner.OnSuccess` hook of a run: the
runner calls it inside the action's transaction once the body returned, so the success row
(and the idempotency key's answer) commit with the action's writes. Failures and rejections are
recorded by the service after the rollback (:meth:`Recording.failure`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy.orm import Session

from flexorm.actions._background import Queued
from flexorm.auth.caller import Caller
from flexorm.exceptions import (
    IdempotencyConflict,
    NotAuthenticated,
    PermissionDenied,
    RequestError,
    UnknownCollectionError,
    ValidationError,
)
from flexorm.journal import Journal, RunEntry, RunStatus
from flexorm.journal.entry import Interface, error_text
from flexorm.journal.idempotency import AnswerNotKept
from flexorm.journal.kept import Kept
from flexorm.protocol.requests import ExecuteRequest

__all__ = ["Recording", "run_status"]

_REJECTIONS = (RequestError, ValidationError, PermissionDenied, NotAuthenticated,
               IdempotencyConflict, UnknownCollectionError)
"""Errors raised before the body ran, or refusing the request as sent."""


def run_status(exc: BaseException) -> RunStatus:
    """``rejected`` for an error refusing the request (bad input, permission, conflict),
    ``failed`` for anything the body (or the database under it) raised."""
    return "rejected" if isinstance(exc, _REJECTIONS) else "failed"


@dataclasses.dataclass(slots=True)
class Recording:
    """The journal's view of one request, from its arrival to its row.

    Args:
        journal: where the row goes.
        request: the request as sent (its model filled in once the action is found).
        caller: who sent it.
        started_at: when it arrived.
        request_id: the request's id (``X-Request-ID`` or generated).
        idempotency_key: its key, if any.
        interface: what it came through (``messages``, ``mcp``, ``http``).
    """

    journal: Journal
    request: ExecuteRequest
    caller: Caller
    started_at: dt.datetime
    request_id: str | None
    idempotency_key: str | None
    secret: Collection[str] | None = None
    """Names of the action's secret parameters; ``None`` while the action is unknown (then
    every value is redacted: flexorm cannot tell which are secret)."""
    claimed: bool = False
    """This request holds its idempotency key (a failure releases it)."""
    entry: RunEntry | None = None
    """The success entry, once written."""
    dry_run: bool = False
    """The run is a dry run (asked with ``dry_run`` or the ``preview`` parameter)."""
    changes: Mapping[str, Mapping[str, int]] | None = None
    """The row counts it changed, per table, when they were counted."""
    queued: Queued | None = None
    """A background action's run to queue instead of a success row."""
    run_id: int | None = None
    """The queued run's id, once written."""
    interface: Interface = "messages"
    """What the request came through."""
    writes: bool = True
    """The action may write (its declaration's ``writes``): see
    :meth:`~flexorm.journal.Journal.in_transaction`."""
    kept: Kept | None = None
    """The success's result as its row keeps it (and its JSON, which the answer reuses), once
    written."""

    def _entry(self, status: RunStatus, *, result: Any = None,
               error: str | None = None) -> RunEntry:
        secret = self.secret if self.secret is not None else tuple(self.request.params)
        entry = RunEntry.for_request(
            self.request, self.caller, status=status, started_at=self.started_at,
            secret=secret, result=result, error=error, request_id=self.request_id,
            idempotency_key=self.idempotency_key, changes=self.changes,
            background=self.queued is not None, interface=self.interface)
        return dataclasses.replace(entry, dry_run=True) if self.dry_run else entry

    def _success(self, result: Any) -> RunEntry:
        """The success's entry: its result when the journal keeps it, else a note saying why
        not (:meth:`~flexorm.journal.Journal.keep`)."""
        self.kept = kept = self.journal.keep(result)
        return self._entry("succeeded", result=kept.result, error=kept.note)

    def _answer(self, result: Any) -> Any:
        """What the key keeps of the success's answer: the answer, or, when its result is not
        kept, a marker in its place (a replay answers 409 rather than run again)."""
        assert self.kept is not None
        return {"result": result} if self.kept.whole else AnswerNotKept(self.kept.size)

    def write(self, session: Session, result: Any,
              changes: Mapping[str, Mapping[str, int]] | None = None) -> None:
        """In the action's transaction, on its blocking session: the success's row, with the
        row counts the run changed when they were counted, or a background action's queued
        run."""
        self.changes = changes
        if self.queued is not None:
            self.run_id = self.journal.enqueue(session, self._entry("queued"),
                                               self.queued.payload, self.queued.expires_at)
            return
        self.entry = self._success(result)
        if self.journal.in_transaction(self.writes):
            self.journal.succeeded(session, self.entry, self._answer(result))

    async def rolled_back(self, result: Any) -> None:
        """After a dry run's rollback: its row, in a transaction of its own; the key given
        back (a dry run's answer is never replayed)."""
        await self.journal.failed(self._success(result), release=self.claimed)

    async def committed(self, result: Any) -> None:
        """After the commit: the row, when it was not written in the action's transaction (a
        separate state database, a read-only action on SQLite)."""
        if self.queued is not None:
            if self.run_id is None:
                self.run_id = await self.journal.enqueued(self._entry("queued"),
                                                          self.queued.payload,
                                                          self.queued.expires_at)
            return
        if self.journal.in_transaction(self.writes):
            return
        if self.entry is None:
            self.entry = self._success(result)
        await self.journal.committed(self.entry, self._answer(result))

    async def failure(self, exc: BaseException) -> None:
        """After the rollback: the failed or rejected row; the key released if held (in the
        background when the lock that stopped the run would hold the row back too)."""
        entry = self._entry(run_status(exc), error=error_text(exc))
        if self.journal.blocked_by(exc):
            self.journal.failed_later(entry, release=self.claimed)
            return
        await self.journal.failed(entry, release=self.claimed)
