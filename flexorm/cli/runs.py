"""``flexorm runs``: the latest entries of the action journal, as a table or as JSON."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, cast

import click
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from flexorm._url import async_url, parse_url
from flexorm.cli._console import data_console
from flexorm.cli.db import one_line_errors, state_url
from flexorm.exceptions import ConfigurationError, MigrationError
from flexorm.journal.entry import RunEntry, RunStatus
from flexorm.journal.store import JournalStore

if TYPE_CHECKING:  # rich is imported when rendering, not at every CLI start
    from rich.console import Console
from flexorm.database import require_sqlite_file
from flexorm.journal.tables import RUN_STATUSES
from flexorm.migrations.commands import database_errors
from flexorm.migrations.startup import check_revision

__all__ = ["runs_command"]

_SHOWN = 60
_STYLES = {"succeeded": "green", "failed": "red", "rejected": "yellow"}


async def _read(url: str, action: str | None, status: RunStatus | None,
                limit: int) -> list[RunEntry]:
    parsed = parse_url(url)
    require_sqlite_file(parsed)
    engine = create_async_engine(async_url(parsed), poolclass=NullPool)
    try:
        revision = await check_revision(parsed)
        if revision.state == "missing":
            raise MigrationError(revision.message)
        with database_errors(parsed):
            async with engine.connect() as conn:
                return await JournalStore().recent(conn, action=action, status=status,
                                                   limit=limit)
    finally:
        await engine.dispose()


def _short(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _SHOWN else text[:_SHOWN - 1] + "…"


def _records(entry: RunEntry) -> str:
    if entry.ids is None:
        return "all" if entry.inverse else ""
    ids = ", ".join(str(i) for i in entry.ids)
    return _short(f"all except {ids}" if entry.inverse else ids)


def _caller(entry: RunEntry) -> str:
    if entry.caller_user_id:
        return f"user {entry.caller_user_id}"
    if entry.caller_key_name:
        return f"key {entry.caller_key_name}"
    return entry.caller_kind or ""


def _render(entries: list[RunEntry], console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    if not entries:
        console.print("No runs recorded.")
        return
    table = Table(title_justify="left")
    for heading in ("id", "started (UTC)", "action", "collection", "records", "caller",
                    "status", "ms", "result / error"):
        table.add_column(heading, justify="right" if heading in ("id", "ms") else "left")
    for entry in entries:
        outcome = entry.error if entry.status != "succeeded" else _short(entry.result)
        table.add_row(
            str(entry.id), entry.started_at.strftime("%Y-%m-%d %H:%M:%S"), entry.action,
            entry.collection or "", _records(entry), _caller(entry),
            Text(entry.status + (" (dry run)" if entry.dry_run else ""),
                 style=_STYLES[entry.status]), str(entry.duration_ms),
            _short(outcome or ""),
        )
    console.print(table)


def _journal_url(database_url: str | None, app_path: str | None) -> str:
    """The database holding the journal: the argument, the app's (``--app``: its state URL,
    else its database URL), else ``FLEXORM_STATE_URL``, then ``FLEXORM_DATABASE_URL``."""
    if app_path is None:
        return state_url(database_url)
    if database_url is not None:
        raise ConfigurationError("give either DATABASE_URL or --app, not both")
    from flexorm.cli._target import load_target

    url = load_target(None, app_path).settings.journal_url
    if not url:
        raise ConfigurationError(f"{app_path} has no database URL: pass DATABASE_URL instead")
    return url


@click.command("runs")
@click.argument("database_url", required=False)
@click.option("--app", "app_path", metavar="MODULE:ATTR",
              help="Read the journal of this Flex object (or the Litestar app it built), "
                   "imported from the current directory.")
@click.option("--action", metavar="NAME", help="Only runs of this action.")
@click.option("--status", type=click.Choice(RUN_STATUSES), help="Only runs with this status.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1),
              help="How many runs, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as a JSON list.")
def runs_command(database_url: str | None, app_path: str | None, action: str | None,
                 status: str | None, limit: int, as_json: bool) -> None:
    """Show the latest runs of actions from flexorm's journal, newest first.

    DATABASE_URL defaults to the --app's journal, else FLEXORM_STATE_URL, then
    FLEXORM_DATABASE_URL.
    """
    with one_line_errors():
        url = _journal_url(database_url, app_path)
        entries = asyncio.run(_read(url, action, cast("RunStatus | None", status), limit))
    if as_json:
        click.echo(json.dumps([entry.as_json() for entry in entries], indent=2,
                              ensure_ascii=False))
    else:
        _render(entries, data_console())
