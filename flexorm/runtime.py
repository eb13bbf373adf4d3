"""A running flexorm: engines open, schema reflected, actions bound to it.

:func:`open_runtime` takes what the ``Flex`` facade hands down (settings, declarations,
models); :class:`RuntimeHost` keeps those and opens one runtime per event loop, shared by
nested openers (``flexorm serve`` checks the database, then the app's lifespan starts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from flexorm.actions.declaration import ActionDeclaration
from flexorm.actions.service import ActionService
from flexorm.background.control import Background, RunActions, open_background
from flexorm.database import Database, require_sqlite_file
from flexorm.exceptions import ConfigurationError, MigrationError
from flexorm.journal import Journal
from flexorm.migrations.startup import ensure_current
from flexorm.reflection import Progress, merge_models
from flexorm.reflection.cache import current_fingerprint, reflect_cached
from flexorm.reflection.records import SchemaInfo
from flexorm.settings import Settings

__all__ = ["Declared", "Purpose", "Runtime", "RuntimeHost", "open_runtime"]

logger = logging.getLogger("flexorm")

Purpose = Literal["serve", "call", "list"]
"""What a runtime is opened for:

- ``serve``: a server or a worker. flexorm's tables are checked (migrated with
  ``auto_upgrade``), and what runs background actions starts: in a server without a
  PostgreSQL state database, the server runs them itself;
- ``call``: a command that runs actions and exits (``flexorm call``). The same checks, but no
  runner starts: a background action's run is queued for the server or the workers (a runner
  here would stop with the command, and would take the running server's runs for a dead
  one's);
- ``list``: a command that only lists the actions (``flexorm actions``). They are bound as
  for serving, background ones included, but flexorm's tables are not checked, so that only
  reflection reaches the database.
"""


@dataclass(frozen=True)
class Declared:
    """What the actions of a runtime are bound from."""

    declarations: Sequence[ActionDeclaration]
    models: Sequence[type[Any]]


@dataclass(frozen=True)
class Runtime:
    """Everything a request needs, built once at startup."""

    settings: Settings
    database: Database
    schema: SchemaInfo
    actions: ActionService
    fingerprint: str | None = field(default=None, repr=False)
    """The schema fingerprint ``schema`` was reflected under (``None``: no cache)."""
    source: Declared | None = field(default=None, repr=False)
    """The declarations and models the actions were bound from, for :meth:`reload`."""
    journal: Journal | None = field(default=None, repr=False)
    """The action journal; ``None`` with ``journal=False``."""
    background: Background | None = field(default=None, repr=False)
    """What runs background actions; ``None`` when none is declared."""

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
        source = self.source or Declared((), ())
        return await _build(self.settings, self.database, source, None, refresh=refresh,
                            journal=self.journal, background=self.background)


async def _build(settings: Settings, database: Database, source: Declared,
                 progress: Progress | None, *, refresh: bool = False,
                 journal: Journal | None = None,
                 background: Background | None = None) -> Runtime:
    outcome = await reflect_cached(database.engine, settings, progress=progress, refresh=refresh)
    tables = [model.__table__ for model in source.models if hasattr(model, "__table__")]
    schema = merge_models(outcome.schema, tables) if tables else outcome.schema
    declarations = list(source.declarations)
    run_actions: RunActions | None = None
    if background is not None:
        assert journal is not None, "background actions need the journal"
        run_actions = RunActions(background, journal)
        declarations.extend(run_actions.declarations())
    actions = ActionService.build(declarations, schema=schema, database=database,
                                  settings=settings, models=source.models, journal=journal,
                                  dispatcher=background)
    if background is not None:
        background.bind(actions)
    if run_actions is not None:
        run_actions.bind(actions)
    return Runtime(settings=settings, database=database, schema=schema, actions=actions,
                   fingerprint=outcome.fingerprint, source=source, journal=journal,
                   background=background)


async def _open_journal(settings: Settings, database: Database) -> Journal:
    """The journal, once its tables are at this version's revision (migrated first with
    ``auto_upgrade``), its result limit fitted to what one statement of it holds.

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
        await journal.fit_packet()
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
async def open_runtime(settings: Settings, declarations: Sequence[ActionDeclaration] = (),
                       models: Sequence[type[Any]] = (), *,
                       progress: Progress | None = None,
                       purpose: Purpose = "serve") -> AsyncIterator[Runtime]:
    """Connect to the database, check flexorm's tables (unless ``journal=False``), reflect it
    (through the reflection cache), bind the actions; dispose of the engines on exit.

    Args:
        settings: the settings to run with.
        declarations: the actions to bind.
        models: declarative classes refining the reflected collections.
        progress: called as reflection goes.
        purpose: what the runtime is for (:data:`Purpose`).

    Raises:
        ConfigurationError: no database URL, or an action that does not fit the schema.
        MigrationError: flexorm's tables are missing or behind, and ``auto_upgrade`` is off.
    """
    if not settings.database_url:
        raise ConfigurationError(
            "no database URL: pass one to Flex(...) or set FLEXORM_DATABASE_URL"
        )
    require_sqlite_file(settings.database_url)
    database = Database.connect(settings.database_url, lock_timeout=settings.lock_timeout,
                                pool=settings.pool_options)
    journal: Journal | None = None
    background: Background | None = None
    try:
        if settings.journal:
            journal = (Journal.open(settings, database.engine) if purpose == "list"
                       else await _open_journal(settings, database))
            if any(declaration.background for declaration in declarations):
                background = await open_background(settings, journal, database)
        source = Declared(tuple(declarations), tuple(models))
        runtime = await _build(settings, database, source, progress, journal=journal,
                               background=background)
        if background is not None and purpose == "serve":
            await background.start()
        yield runtime
    finally:
        if background is not None:
            await background.close()
        if journal is not None:
            await journal.dispose()
        await database.dispose()


class RuntimeHost:
    """The settings, declarations, models and message handlers of one ``Flex``, and the
    runtime they open (one per event loop).

    The ``Flex`` facade fills it; the server's lifespan and the CLI open its runtime. Nothing
    connects until then.

    Args:
        settings: the settings to run with (read-only: a command passes overrides to
            :meth:`runtime` instead).
        declarations: the declared actions so far.
        models: declarative classes refining the reflected collections.
    """

    def __init__(self, settings: Settings, declarations: Sequence[ActionDeclaration] = (),
                 models: Sequence[type[Any]] = ()) -> None:
        self._settings = settings
        self._declarations: list[ActionDeclaration] = list(declarations)
        self._models = tuple(models)
        self._message_handlers: dict[str, Callable[..., Any]] = {}
        self._running = 0
        self._open: tuple[asyncio.AbstractEventLoop, Runtime] | None = None

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def declarations(self) -> tuple[ActionDeclaration, ...]:
        """Every declared action, in declaration order."""
        return tuple(self._declarations)

    @property
    def models(self) -> tuple[type[Any], ...]:
        return self._models

    @property
    def message_handlers(self) -> Mapping[str, Callable[..., Any]]:
        """Handlers of other messages, by message name."""
        return dict(self._message_handlers)

    def add(self, declaration: ActionDeclaration) -> None:
        """Add an action.

        Raises:
            ConfigurationError: the runtime is open (actions are bound when it opens).
        """
        if self._running:
            raise ConfigurationError(
                f"action {declaration.name!r} declared while flexorm is running; actions are "
                "bound when the server starts, so declare every action before that"
            )
        self._declarations.append(declaration)

    def add_message_handler(self, name: str, handler: Callable[..., Any]) -> None:
        self._message_handlers[name] = handler

    @contextlib.asynccontextmanager
    async def runtime(self, overrides: Mapping[str, Any] | None = None, *,
                      progress: Progress | None = None,
                      purpose: Purpose = "serve") -> AsyncIterator[Runtime]:
        """Connect, reflect and bind every action; close the engines on exit.

        Opened again while open, in the same event loop, it yields the runtime already open
        (closed by the outermost exit; ``overrides`` then change nothing).

        Args:
            overrides: settings that replace the host's for this runtime (a command's
                options).
            progress: called as reflection goes.
            purpose: what the runtime is for (:data:`Purpose`).
        """
        loop = asyncio.get_running_loop()
        if self._open is not None and self._open[0] is loop:
            yield self._open[1]
            return
        settings = self._settings.with_(**overrides) if overrides else self._settings
        async with open_runtime(settings, self.declarations, self._models,
                                progress=progress, purpose=purpose) as runtime:
            self._running += 1
            outer, self._open = self._open, (loop, runtime)
            try:
                yield runtime
            finally:
                self._running -= 1
                self._open = outer
