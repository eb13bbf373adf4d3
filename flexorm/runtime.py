"""A running flexorm: engines open, schema reflected, actions bound to it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flexorm.actions.service import ActionService
from flexorm.database import Database
from flexorm.exceptions import ConfigurationError
from flexorm.reflection import Progress, merge_models
from flexorm.reflection.cache import current_fingerprint, reflect_cached
from flexorm.reflection.records import SchemaInfo
from flexorm.settings import Settings

if TYPE_CHECKING:
    from flexorm.actions.declaration import ActionDeclaration
    from flexorm.flex import Flex

__all__ = ["Runtime", "open_runtime"]


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
        return await _build(self.settings, self.database, source, None, refresh=refresh)


@dataclass(frozen=True)
class _Source:
    declarations: Sequence[ActionDeclaration]
    models: Sequence[type[Any]]


async def _build(settings: Settings, database: Database, source: _Source,
                 progress: Progress | None, *, refresh: bool = False) -> Runtime:
    outcome = await reflect_cached(database.engine, settings, progress=progress, refresh=refresh)
    tables = [model.__table__ for model in source.models if hasattr(model, "__table__")]
    schema = merge_models(outcome.schema, tables) if tables else outcome.schema
    actions = ActionService.build(source.declarations, schema=schema, database=database,
                                  settings=settings, models=source.models)
    return Runtime(settings=settings, database=database, schema=schema, actions=actions,
                   fingerprint=outcome.fingerprint, source=source)


@contextlib.asynccontextmanager
async def open_runtime(flex: Flex, *, progress: Progress | None = None) -> AsyncIterator[Runtime]:
    """Connect to the database, reflect it (through the reflection cache), bind the actions;
    dispose of the engines on exit."""
    settings = flex.settings
    if not settings.database_url:
        raise ConfigurationError(
            "no database URL: pass one to Flex(...) or set FLEXORM_DATABASE_URL"
        )
    database = Database.connect(settings.database_url)
    try:
        source = _Source(flex.declarations, flex.models)
        yield await _build(settings, database, source, progress)
    finally:
        await database.dispose()
