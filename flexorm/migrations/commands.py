"""Migrating flexorm's own tables from Python: ``upgrade``, ``downgrade``, ``current``, ``head``.

Alembic is imported inside these functions, never when ``flexorm`` is imported. Every function
takes the URL users type (async drivers included) and runs on the blocking driver.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from flexorm._url import parse_url, redact_url, sync_url
from flexorm.database import require_sqlite_file
from flexorm.exceptions import ConfigurationError, DatabaseError, MigrationError, first_line
from flexorm.migrations._lock import migration_connection
from flexorm.migrations.filters import VERSION_TABLE

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

__all__ = [
    "current",
    "database_errors",
    "display_url",
    "downgrade",
    "head",
    "revision_on",
    "script_directory",
    "stored_revisions",
    "upgrade",
]

SCRIPT_LOCATION = Path(__file__).parent
"""The migration environment shipped in the package."""


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION).replace("%", "%%"))
    config.attributes["configure_logger"] = False
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def script_directory() -> ScriptDirectory:
    """The revisions shipped with this version of flexorm."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


HEAD = "6d1f4a8c2e57"
"""The newest revision shipped (what :func:`head` answers, known without loading Alembic;
a test keeps the two equal)."""


def head() -> str:
    """The newest revision this version of flexorm knows."""
    revision = script_directory().get_current_head()
    assert revision is not None, "flexorm ships at least one revision"
    return revision


def revision_on(conn: Connection) -> str | None:
    """The revision of flexorm's tables on an open connection; ``None`` when they are absent."""
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def stored_revisions(conn: Connection) -> tuple[str, ...]:
    """The revisions in flexorm's version table, read without Alembic (the server's startup
    check); empty when the table is absent."""
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return ()
    rows = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))  # noqa: S608 - a constant
    return tuple(str(row[0]) for row in rows)


def _alembic_error(exc: BaseException) -> bool:
    # Alembic is not imported for the startup check: then no exception can be one of its own.
    util = sys.modules.get("alembic.util")
    return util is not None and isinstance(exc, util.CommandError)


@contextlib.contextmanager
def database_errors(url: str | URL) -> Iterator[None]:
    """Database and Alembic failures as flexorm errors that name the (redacted) URL."""
    try:
        yield
    except DBAPIError as exc:
        reason = first_line(exc.orig, type(exc).__name__)
        raise DatabaseError(f"cannot use {redact_url(url)}: {reason}") from exc
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot use {redact_url(url)}: {exc}") from exc
    except ImportError as exc:  # the URL's driver is not installed
        raise ConfigurationError(f"cannot use {redact_url(url)}: {exc}") from exc
    except Exception as exc:
        if _alembic_error(exc):
            raise MigrationError(str(exc)) from exc
        raise


def current(url: str | URL) -> str | None:
    """The revision of flexorm's tables in the database at ``url``; ``None`` when absent.

    Raises:
        DatabaseError: the database cannot be reached (or the SQLite file does not exist).

    Examples:
        >>> current("sqlite:///app.db")  # doctest: +SKIP
        '6d1f4a8c2e57'
    """
    parsed = sync_url(url)
    require_sqlite_file(parsed)
    with database_errors(url):
        engine = sa.create_engine(parsed, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                return revision_on(conn)
        finally:
            engine.dispose()


def upgrade(url: str | URL, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate flexorm's tables up to ``revision``; ``(before, after)``.

    Serialised between concurrent callers (see :mod:`flexorm.migrations._lock`): whoever waited
    finds the tables already migrated. A SQLite file is created when it does not exist.

    Raises:
        DatabaseError: the database cannot be reached.
        MigrationError: an unknown revision, or a migration that failed (rolled back).

    Examples:
        >>> upgrade("postgresql://app@db/shop")  # doctest: +SKIP
        (None, '6d1f4a8c2e57')
    """
    from alembic import command

    with database_errors(url), migration_connection(sync_url(url)) as conn:
        before = revision_on(conn)
        command.upgrade(_config(conn), revision)
        return before, revision_on(conn)


def downgrade(url: str | URL, revision: str) -> tuple[str | None, str | None]:
    """Migrate flexorm's tables down to ``revision`` (``"base"`` drops them); ``(before,
    after)``.

    Raises:
        DatabaseError: the database cannot be reached (or the SQLite file does not exist).
        MigrationError: an unknown revision, or a migration that failed (rolled back).
    """
    from alembic import command

    parsed = sync_url(url)
    require_sqlite_file(parsed)
    with database_errors(url), migration_connection(parsed) as conn:
        before = revision_on(conn)
        command.downgrade(_config(conn), revision)
        return before, revision_on(conn)


def display_url(url: str | URL) -> str:
    """``url`` as users typed it, password hidden: what messages tell them to pass."""
    return redact_url(parse_url(url))
