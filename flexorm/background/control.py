"""Who runs a runtime's background actions, and the built-in action that cancels a run.

:func:`open_background` picks the runner for the settings: the PostgreSQL queue
(:class:`~flexorm.background.queue.Queue`, workers run the runs) or the server process itself
(:class:`~flexorm.background.embedded.EmbeddedRunner`).
"""

from __future__ import annotations

from typing import Any, Protocol

from flexorm._url import parse_url
from flexorm.actions.context import ActionContext
from flexorm.actions.declaration import ActionDeclaration, declare
from flexorm.actions.policies import can_write
from flexorm.actions.service import ActionService
from flexorm.database import Database
from flexorm.exceptions import ActionError, ConfigurationError
from flexorm.journal import Journal
from flexorm.journal.runs import CancelOutcome
from flexorm.settings import Settings

__all__ = ["CANCEL_ACTION", "Background", "background_mode", "cancel_declaration",
           "open_background"]

CANCEL_ACTION = "flexorm_cancel_run"
"""The built-in common action that cancels a background run (listed in Jet Admin)."""


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
    if not outcome.found:
        raise ActionError(f"there is no background run {run_id}")
    if outcome.cancelled_now:
        return {"run": str(run_id), "status": "cancelled"}
    if outcome.stopping:
        return {"run": str(run_id), "status": "cancelling"}
    raise ActionError(f"run {run_id} already ended: {outcome.status}")


def cancel_declaration(background: Background) -> ActionDeclaration:
    """The built-in action cancelling a run of ``background``."""

    async def flexorm_cancel_run(run: int, ctx: ActionContext) -> dict[str, Any]:
        return _answer(run, await background.cancel(run))

    # Its own transaction writes nothing (the cancel goes through the journal), so it takes no
    # lock: on SQLite a writing action would wait for the very run it cancels. Read-only
    # callers are still refused, by the policy.
    return declare(flexorm_cancel_run, label="Cancel a background run", icon="close",
                   writes=False, allow=can_write, namespace={"ActionContext": ActionContext})
