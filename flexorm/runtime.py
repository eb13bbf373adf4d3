"""A running flexorm: engines open, schema reflected, actions bound to it."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flexorm.actions.service import ActionService
from flexorm.database import Database, require_sqlite_file
from flexorm.exceptions import ConfigurationError, MigrationError
from flexorm.journal import Journal
from flexorm.migrations.startup import ensure_current
from flexorm.reflection import Progress, merge_models
from flexorm.reflection.cache import current_fingerprint, reflect_cached
from flexorm.reflection.records import SchemaInfo
from flexorm.settings import Settings

if TYPE_CHECKING:
    from flexorm.actions.declaration import ActionDeclaration
    from flexorm.flex import Flex

__all__ = ["Runtime", "open_runtime"]

logger = logging.getLogger("flexorm")


@dataclass(frozen=True)
class Runtime:
    """Everything a request needs, built once at startup."""

    settings: Settings
    database: Database
    schema: SchemaInfo
    actions: ActionService
    fingerprint: str | None = field(default=None, repr=False)
    """The schema fingerprint ``schema`` was reflected under (``None``: no cache)."""
    source: Any = field(default=None, repr=False)
    """The declarations and models the actions were bound from, for :meth:`reload`. (Typed
    ``Any`` on purpose: Litestar's signature parsing walks these annotations.)"""
    journal: Journal | None = field(default=None, repr=False)
    """The action journal; ``None`` with ``journal=False``."""

    async def reload(self, *, refresh: bool = False) -> Runtime:
        """The runtime of the database's current schema, on the same engines.

        Costs one fingerprint query when the schema is unchanged (and then returns ``self``);
        otherwise reflects (refreshing the cache) and binds the actions again. ``refresh``
        reflects even when the fingerprint is unchanged. The caller swaps the runtime it serves
        for the answer; requests already running finish on the old one.

        Raises:
            DatabaseError: the database cannot be reflected.
            ConfigurationError: an action no longer fits the schema (the old runtime stays valid).
        """
        if not refresh and self.fingerprint is not None:
            current = await current_fingerprint(self.database.engine, self.settings)
            if current == self.fingerprint:
                return self
        source: _Source = self.source or _Source((), ())
        return await _build(self.settings, self.database, source, None, refresh=refresh,
                            journal=self.journal)


@dataclass(frozen=True)
class _Source:
    declarations: Sequence[ActionDeclaration]
    models: Sequence[type[Any]]


async def _build(settings: Settings, database: Database, source: _Source,
                 progress: Progress | None, *, refresh: bool = False,
                 journal: Journal | None = None) -> Runtime:
    outcome = await reflect_cached(database.engine, settings, progress=progress, refresh=refresh)
    tables = [model.__table__ for model in source.models if hasattr(model, "__table__")]
    schema = merge_models(outcome.schema, tables) if tables else outcome.schema
    actions = ActionService.build(source.declarations, schema=schema, database=database,
                                  settings=settings, models=source.models, journal=journal)
    return Runtime(settings=settings, database=database, schema=schema, actions=actions,
                   fingerprint=outcome.fingerprint, source=source, journal=journal)


async def _open_journal(settings: Settings, database: Database) -> Journal:
    """The journal, once its tables are at this version's revision (migrated first with
    ``auto_upgrade``).

    Raises:
        MigrationError: the tables are missing or behind; one line saying what to run.
    """
    journal = Journal.open(settings, database.engine)
    try:
        # by URL, so that a message shows the URL as configured (password hidden)
        assert settings.journal_url is not None
        with _quiet_alembic():
            status = await ensure_current(settings.journal_url,
                                          auto_upgrade=settings.auto_upgrade)
    except MigrationError as exc:
        await journal.dispose()
        if "flexorm db upgrade" not in exc.message:
            raise
        raise MigrationError(f"{exc.message}, or set FLEXORM_AUTO_UPGRADE=1 to migrate at "
                             "startup") from None
    except BaseException:
        await journal.dispose()
        raise
    logger.debug(status.message)
    return journal


@contextlib.contextmanager
def _quiet_alembic() -> Iterator[None]:
    """Alembic's step-by-step INFO lines stay out of the output of a startup upgrade (a
    Litestar app configures the root logger at INFO)."""
    alembic = logging.getLogger("alembic")
    level = alembic.level
    alembic.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        alembic.setLevel(level)


@contextlib.asynccontextmanager
async def open_runtime(flex: Flex, *, progress: Progress | None = None) -> AsyncIterator[Runtime]:
    """Connect to the database, check flexorm's tables (unless ``journal=False``), reflect it
    (through the reflection cache), bind the actions; dispose of the engines on exit.

    Raises:
        MigrationError: flexorm's tables are missing or behind, and ``auto_upgrade`` is off.
    """
    settings = flex.settings
    if not settings.database_url:
        raise ConfigurationError(
            "no database URL: pass one to Flex(...) or set FLEXORM_DATABASE_URL"
        )
    require_sqlite_file(settings.database_url)
    database = Database.connect(settings.database_url)
    journal: Journal | None = None
    try:
        if settings.journal:
            journal = await _open_journal(settings, database)
        source = _Source(flex.declarations, flex.models)
        yield await _build(settings, database, source, progress, journal=journal)
    finally:
        if journal is not None:
            await journal.dispose()
        await database.dispose()
