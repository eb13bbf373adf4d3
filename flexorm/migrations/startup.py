"""The server's startup check: are flexorm's tables there, and at this version's revision?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import anyio.to_thread
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from flexorm._url import async_url, parse_url
from flexorm.exceptions import MigrationError
from flexorm.migrations.commands import (
    HEAD,
    database_errors,
    display_url,
    head,
    revision_on,
    script_directory,
    stored_revisions,
    upgrade,
)

__all__ = ["State", "Status", "check_revision", "ensure_current"]

State = Literal["current", "missing", "behind", "unknown"]


@dataclass(frozen=True, slots=True)
class Status:
    """Where flexorm's tables stand in one database."""

    state: State
    """``current``: at head; ``missing``: never created; ``behind``: an older revision;
    ``unknown``: a revision this version of flexorm does not know (a newer flexorm migrated)."""
    current: str | None
    head: str
    url: str
    """The database, password hidden."""

    @property
    def ok(self) -> bool:
        return self.state == "current"

    @property
    def message(self) -> str:
        """One line: where the tables stand and what to run."""
        run = f"run `flexorm db upgrade {self.url}`"
        if self.state == "current":
            return f"flexorm's tables in {self.url} are at revision {self.head} (latest)"
        if self.state == "missing":
            return f"flexorm's tables are missing from {self.url}: {run}"
        if self.state == "behind":
            return (f"flexorm's tables in {self.url} are at revision {self.current}, "
                    f"behind {self.head}: {run}")
        return (f"flexorm's tables in {self.url} are at revision {self.current}, unknown to "
                f"this flexorm version (latest {self.head}): a newer flexorm migrated them")


def _state(current: str | None, latest: str) -> State:
    from alembic.util import CommandError

    if current is None:
        return "missing"
    if current == latest:
        return "current"
    try:
        known = script_directory().get_revision(current) is not None
    except CommandError:  # alembic's ResolutionError is a CommandError
        known = False
    return "behind" if known else "unknown"


async def check_revision(target: AsyncEngine | str | URL) -> Status:
    """Read the revision of flexorm's tables: the server calls it at startup.

    Args:
        target: the engine of the database holding flexorm's tables, or its URL.

    Raises:
        DatabaseError: the database cannot be reached.

    Examples:
        >>> status = await check_revision(engine)  # doctest: +SKIP
        >>> if not status.ok:
        ...     log.warning(status.message)
    """
    engine = target if isinstance(target, AsyncEngine) else create_async_engine(
        async_url(target), poolclass=NullPool)
    url = engine.url
    shown = display_url(url if isinstance(target, AsyncEngine) else target)
    try:
        with database_errors(url):
            async with engine.connect() as conn:
                stored = await conn.run_sync(stored_revisions)
                if stored == (HEAD,):  # the usual answer, found without loading Alembic
                    return Status(state="current", current=HEAD, head=HEAD, url=shown)
                current = await conn.run_sync(revision_on)
    finally:
        if engine is not target:
            await engine.dispose()
    latest = head()
    return Status(state=_state(current, latest), current=current, head=latest,
                  url=shown)


async def ensure_current(target: AsyncEngine | str | URL, *, auto_upgrade: bool = False) -> Status:
    """Check the tables; upgrade them first when ``auto_upgrade`` and they are missing or
    behind (serialised between processes starting at once).

    Raises:
        MigrationError: the tables are not at this version's revision (its message says what to
            run), or the upgrade failed.
        DatabaseError: the database cannot be reached.
    """
    status = await check_revision(target)
    if auto_upgrade and status.state in ("missing", "behind"):
        url = target.url if isinstance(target, AsyncEngine) else parse_url(target)
        await anyio.to_thread.run_sync(upgrade, url)
        status = await check_revision(target)
    if not status.ok:
        raise MigrationError(status.message)
    return status
