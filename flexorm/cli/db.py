"""``flexorm db``: create and migrate flexorm's own tables (journal, idempotency keys)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from flexorm.exceptions import ConfigurationError, FlexormError
from flexorm.migrations.commands import current, display_url, downgrade, head, upgrade
from flexorm.settings import Settings

__all__ = ["db_command", "state_url"]

def state_url(database_url: str | None) -> str:
    """The database of flexorm's tables: the argument, else ``FLEXORM_STATE_URL``, else
    ``FLEXORM_DATABASE_URL``.

    Raises:
        ConfigurationError: none of them is set.
    """
    url = database_url or Settings.from_env().journal_url
    if not url:
        raise ConfigurationError(
            "no database URL: pass one or set FLEXORM_STATE_URL or FLEXORM_DATABASE_URL")
    return url


@contextmanager
def one_line_errors() -> Iterator[None]:
    """A :class:`FlexormError` as ``Error: ...`` on stderr and exit code 2."""
    try:
        yield
    except FlexormError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(2)


def _revision(value: str | None) -> str:
    return value if value is not None else "none"


@click.group("db")
def db_command() -> None:
    """Create and migrate flexorm's own tables (the action journal, idempotency keys)."""


@db_command.command("upgrade")
@click.argument("database_url", required=False)
@click.option("--to", "revision", default="head", show_default=True, metavar="REV",
              help="The revision to migrate to.")
def upgrade_command(database_url: str | None, revision: str) -> None:
    """Create flexorm's tables, or migrate them to this version's revision.

    Only tables named flexorm_* are touched. A SQLite file is created if it does not exist.
    DATABASE_URL defaults to FLEXORM_STATE_URL, then FLEXORM_DATABASE_URL.
    """
    with one_line_errors():
        url = state_url(database_url)
        before, after = upgrade(url, revision)
    where = display_url(url)
    if before == after:
        click.echo(f"{where}: already at {_revision(after)}")
    else:
        click.echo(f"{where}: upgraded from {_revision(before)} to {_revision(after)}")


@db_command.command("current")
@click.argument("database_url", required=False)
@click.option("--check", is_flag=True,
              help="Exit with code 1 unless the tables are at this version's revision.")
def current_command(database_url: str | None, check: bool) -> None:
    """Show the revision of flexorm's tables.

    DATABASE_URL defaults to FLEXORM_STATE_URL, then FLEXORM_DATABASE_URL.
    """
    with one_line_errors():
        url = state_url(database_url)
        revision = current(url)
    latest = head()
    if revision == latest:
        click.echo(f"{revision} (head)")
        return
    if revision is None:
        click.echo(f"none: flexorm's tables are missing; run flexorm db upgrade {display_url(url)}")
    else:
        click.echo(f"{revision} (head is {latest}): run flexorm db upgrade {display_url(url)}")
    if check:
        sys.exit(1)


@db_command.command("downgrade", context_settings={"ignore_unknown_options": True})
@click.argument("revision")
@click.argument("database_url", required=False)
def downgrade_command(revision: str, database_url: str | None) -> None:
    """Migrate flexorm's tables down to REVISION ("base" drops them, "-1" steps back one).

    DATABASE_URL defaults to FLEXORM_STATE_URL, then FLEXORM_DATABASE_URL.
    """
    with one_line_errors():
        url = state_url(database_url)
        before, after = downgrade(url, revision)
    click.echo(f"{display_url(url)}: downgraded from {_revision(before)} to {_revision(after)}")

