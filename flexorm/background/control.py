"""Who runs a runtime's background actions, and the built-in actions that show and cancel a
run.

:func:`open_background` picks the runner for the settings: the PostgreSQL queue
(:class:`~flexorm.background.queue.Queue`, workers run the runs) or the server process itself
(:class:`~flexorm.background.embedded.EmbeddedRunner`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from flexorm._url import parse_url
from flexorm.actions.context import ActionContext
from flexorm.actions.declaration import ActionDeclaration, declare
from flexorm.actions.policies import can_write
from flexorm.actions.service import ActionService
from flexorm.auth.caller import Caller
from flexorm.database import Database
from flexorm.exceptions import ActionError, ConfigurationError
from flexorm.journal import Journal
from flexorm.journal.entry import RunEntry
from flexorm.journal.runs import CANCEL_ACTION, STATUS_ACTION, CancelOutcome
from flexorm.settings import Settings

__all__ = ["Background", "RunActions", "background_mode", "open_background"]


class Background(Protocol):
    """What runs a runtime's background actions."""

    def bind(self, service: ActionService) -> None: ...

    async def start(self) -> None: ...

    async def queued(self, run_id: int) -> None: ...

    async def cancel(self, run_id: int) -> CancelOutcome: ...

    async def close(self) -> None: ...


def background_mode(settings: Settings) -> str:
    """``queue`` or ``embedded``, for the settings."""
    if settings.background_runner != "auto":
        return settings.background_runner
    url = settings.journal_url
    if url and parse_url(url).get_backend_name() == "postgresql":
        return "queue"
    return "embedded"


async def open_background(settings: Settings, journal: Journal,
                          database: Database) -> Background:
    """The runner of background actions for ``settings`` (started once bound)."""
    if background_mode(settings) == "queue":
        from flexorm.background.queue import Queue

        assert settings.journal_url is not None
        try:
            return Queue(journal, settings.journal_url)
        except ValueError as exc:
            raise ConfigurationError(f"background_runner=queue: {exc}") from None
    from flexorm.background.embedded import EmbeddedRunner

    return EmbeddedRunner(journal, database, concurrency=settings.background_concurrency,
                          retention_days=settings.run_retention_days)


def _answer(run_id: int, outcome: CancelOutcome) -> dict[str, Any]:
    if outcome.cancelled_now:
        return {"run": str(run_id), "status": "cancelled"}
    if outcome.stopping:
        return {"run": str(run_id), "status": "cancelling"}
    if not outcome.found:  # pruned since it was read
        raise ActionError(f"there is no background run {run_id}")
    raise ActionError(f"run {run_id} already ended: {outcome.status}")


_SHOWN = ("action", "collection", "status", "progress", "result", "error", "started_at",
          "running_at", "finished_at", "attempts", "cancel_requested")
"""What :data:`STATUS_ACTION` answers of a run, besides its id (as ``flexorm runs --json``
shows them)."""


class RunActions:
    """The built-in common actions that follow background runs from Jet Admin, MCP and HTTP
    clients: one shows a run, one cancels it. Both answer only for a run of an action the
    caller may run (:meth:`ActionService.may_follow`); any other run is answered as missing.

    Args:
        background: what runs the runs (it carries the cancels out).
        journal: the journal holding the runs.
    """

    def __init__(self, background: Background, journal: Journal) -> None:
        self._background = background
        self._journal = journal
        self._service: ActionService | None = None

    def bind(self, service: ActionService) -> None:
        """The action service the declarations were bound in (it tells who may follow)."""
        self._service = service

    async def _followed(self, run_id: int, caller: Caller) -> RunEntry:
        async with self._journal.engine.connect() as conn:
            entry = await self._journal.background.get(conn, run_id)
        service = self._service
        assert service is not None, "bound before any action runs"
        if entry is None or not entry.background \
                or not await service.may_follow(caller, entry.action, entry.collection):
            raise ActionError(f"there is no background run {run_id}")
        return entry

    def declarations(self) -> list[ActionDeclaration]:
        """The two actions, to bind with the app's own."""

        async def show(run: int, ctx: ActionContext) -> dict[str, Any]:
            """Show a background run: its status (queued, running, succeeded, failed,
            cancelled, expired or interrupted), its progress, and its result or error once it
            has ended: run is the run id a background action answered."""
            shown = (await self._followed(run, ctx.caller)).as_json()
            return {"run": str(run), **{key: shown.get(key) for key in _SHOWN}}

        async def cancel(run: int, ctx: ActionContext) -> dict[str, Any]:
            """Cancel a background run: a queued one never starts; a running one stops at its
            next statement or progress call, and everything it wrote is rolled back."""
            await self._followed(run, ctx.caller)
            return _answer(run, await self._background.cancel(run))

        namespace = {"ActionContext": ActionContext}
        return [
            # Not recorded: it reads the journal, a client polls it, and on SQLite its row would
            # wait for the write lock of the very run it shows.
            dataclasses.replace(
                declare(show, name=STATUS_ACTION, label="Show a background run",
                        icon="search", writes=False, namespace=namespace),
                recorded=False),
            # Its own transaction writes nothing (the cancel goes through the journal), so it
            # takes no lock: on SQLite a writing action would wait for the very run it
            # cancels. Read-only callers are still refused, by the policy.
            dataclasses.replace(
                declare(cancel, name=CANCEL_ACTION, label="Cancel a background run",
                        icon="close", writes=False, allow=can_write, namespace=namespace),
                effects_elsewhere=True),
        ]
