"""The Alembic environment of flexorm's own tables.

Run by :mod:`flexorm.migrations.commands` (``flexorm db upgrade``...) with a ``Config`` built in
code, or by ``alembic`` with the repository's ``alembic.ini`` to write new revisions. The URL
comes from ``config.attributes["connection"]`` (an open connection), else
``config.attributes["url"]``, else ``sqlalchemy.url``, else ``FLEXORM_STATE_URL`` /
``FLEXORM_DATABASE_URL``. Async URLs work: migrations always run on the blocking driver.
"""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from flexorm._url import sync_url
from flexorm.exceptions import ConfigurationError
from flexorm.migrations.options import OPTIONS

config = context.config

if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

def _url() -> str:
    url = (config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
           or os.environ.get("FLEXORM_STATE_URL") or os.environ.get("FLEXORM_DATABASE_URL"))
    if not url:
        raise ConfigurationError(
            "no database URL: set FLEXORM_STATE_URL or FLEXORM_DATABASE_URL")
    return sync_url(str(url)).render_as_string(hide_password=False)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    """Print the SQL (``alembic upgrade --sql``)."""
    context.configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"},
                      **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Migrate the database, on the caller's connection when it passes one."""
    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as new_connection:
            _run(new_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
