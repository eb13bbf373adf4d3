"""A running flexorm: engines open, schema reflected, actions bound to it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flexorm.actions.service import ActionService
from flexorm.database import Database
from flexorm.exceptions import ConfigurationError
from flexorm.reflection import Progress, merge_models, reflect
from flexorm.reflection.records import SchemaInfo
from flexorm.settings import Settings

if TYPE_CHECKING:
    from flexorm.flex import Flex

__all__ = ["Runtime", "open_runtime"]


@dataclass(frozen=True)
class Runtime:
    """Everything a request needs, built once at startup."""

    settings: Settings
    database: Database
    schema: SchemaInfo
    actions: ActionService


@contextlib.asynccontextmanager
async def open_runtime(flex: Flex, *, progress: Progress | None = None) -> AsyncIterator[Runtime]:
    """Connect to the database, reflect it, bind the actions; dispose of the engines on exit."""
    settings = flex.settings
    if not settings.database_url:
        raise ConfigurationError(
            "no database URL: pass one to Flex(...) or set FLEXORM_DATABASE_URL"
        )
    database = Database.connect(settings.database_url)
    try:
        schema = await reflect(database.engine, settings, progress=progress)
        tables = [model.__table__ for model in flex.models if hasattr(model, "__table__")]
        if tables:
            schema = merge_models(schema, tables)
        actions = ActionService.build(
            flex.declarations, schema=schema, database=database, settings=settings,
            models=flex.models,
        )
        yield Runtime(settings=settings, database=database, schema=schema, actions=actions)
    finally:
        await database.dispose()
