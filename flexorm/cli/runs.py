"""``flexorm runs``: the latest entries of the action journal, as a table or as JSON;
``flexorm runs show RUN [--wait]``, ``flexorm runs cancel RUN`` and
``flexorm runs prune --older-than 30d``."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from typing import TYPE_CHECKING, cast

import click
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from flexorm._url import async_url, parse_url
from flexorm.cli._console import data_console
from flexorm.cli._progress import run_progress
from flexorm.cli.db import one_line_errors, state_url
from flexorm.exceptions import ConfigurationError, MigrationError
from flexorm.journal import Journal
from flexorm.journal.entry import RunEntry, RunStatus, utcnow
from flexorm.journal.runs import CancelOutcome
from flexorm.journal.store import JournalStore

if TYPE_CHECKING:  # rich is imported when rendering, not at every CLI start
    from rich.console import Console
from flexorm.database import require_sqlite_file
from flexorm.journal.tables import RUN_STATUSES
from flexorm.migrations.commands import database_errors
from flexorm.migrations.startup import check_revision

__all__ = ["runs_command"]

_SHOWN = 60
_RUN_ID = click.IntRange(min=1, max=2**63 - 1)
"""A run's id: the journal's ids are 64-bit."""
_WAIT_POLL = 0.5
"""Seconds between two reads of a run being waited for (its progress is written a few times
a second)."""
_STYLES = {"succeeded": "green", "failed": "red", "rejected": "yellow", "queued": "cyan",
           "running": "blue", "cancelled": "magenta", "expired": "magenta",
           "interrupted": "red"}


async def _read(url: str, action: str | None, status: RunStatus | None,
                limit: int) -> list[RunEntry]:
    journal = await _open_journal(url)
    try:
        with database_errors(url):
            async with journal.engine.connect() as conn:
                return await JournalStore().recent(conn, action=action, status=status,
                                                   limit=limit)
    finally:
        await journal.dispose()


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


def _progress(entry: RunEntry) -> str:
    """A background run's progress: ``120 / 4000 mailing``."""
    if entry.progress_done is None:
        return "cancel requested" if entry.cancel_requested else ""
    text = str(entry.progress_done)
    if entry.progress_total is not None:
        text += f" / {entry.progress_total}"
    if entry.progress_message:
        text += f" {entry.progress_message}"
    return text + (" (cancel requested)" if entry.cancel_requested else "")


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
        # a success's error is a note on its result: not kept, or left out
        outcome = entry.error if entry.status != "succeeded" or entry.error \
            else _short(entry.result)
        if entry.status in ("queued", "running"):
            outcome = _progress(entry)
        duration = entry.duration_ms
        table.add_row(
            str(entry.id), entry.started_at.strftime("%Y-%m-%d %H:%M:%S"), entry.action,
            entry.collection or "", _records(entry), _caller(entry),
            Text(entry.status + (" (dry run)" if entry.dry_run else ""),
                 style=_STYLES[entry.status]),
            "" if duration is None else str(duration), _short(outcome or ""),
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


class _RunsGroup(click.Group):
    """``flexorm runs [URL] [options]`` lists; ``flexorm runs cancel|prune ...`` act."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@click.group("runs", cls=_RunsGroup)
def runs_command() -> None:
    """The journal's runs: list them (the default), show one (and wait for it), cancel a
    background run, prune old ones.

    DATABASE_URL defaults to the --app's journal, else FLEXORM_STATE_URL, then
    FLEXORM_DATABASE_URL.
    """


_APP_OPTION = click.option(
    "--app", "app_path", metavar="MODULE:ATTR",
    help="Use the journal of this Flex object (or the Litestar app it built), imported from "
         "the current directory.")


@runs_command.command("list")
@click.argument("database_url", required=False)
@click.option("--app", "app_path", metavar="MODULE:ATTR",
              help="Read the journal of this Flex object (or the Litestar app it built), "
                   "imported from the current directory.")
@click.option("--action", metavar="NAME", help="Only runs of this action.")
@click.option("--status", type=click.Choice(RUN_STATUSES), help="Only runs with this status.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1, max=10_000),
              help="How many runs, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as a JSON list.")
def list_command(database_url: str | None, app_path: str | None, action: str | None,
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


async def _open_journal(url: str) -> Journal:
    """The journal at ``url``, its tables checked (an unknown dialect, a driver not installed
    or a database out of reach: one line naming the URL)."""
    parsed = parse_url(url)
    require_sqlite_file(parsed)
    with database_errors(parsed):
        revision = await check_revision(parsed)
        if revision.state in ("missing", "behind"):  # says what to run
            raise MigrationError(revision.message)
        engine = create_async_engine(async_url(parsed), poolclass=NullPool)
    return Journal(engine, shared=False, owns_engine=True)


async def _cancel(url: str, run_id: int) -> CancelOutcome:
    journal = await _open_journal(url)
    try:
        with database_errors(url):
            if journal.engine.dialect.name == "postgresql":
                from flexorm.background.queue import Queue

                queue = Queue(journal, url, pool_size=1)
                try:
                    return await queue.cancel(run_id)
                finally:
                    await queue.close()
            async with journal.engine.begin() as conn:
                return await journal.background.request_cancel(conn, run_id)
    finally:
        await journal.dispose()


async def _show(url: str, run_id: int, wait: bool) -> RunEntry | None:
    """Run ``run_id`` as the journal holds it; with ``wait``, once it has ended (its progress
    shown meanwhile on a terminal)."""
    journal = await _open_journal(url)
    try:
        with database_errors(url), run_progress(run_id) as progress:
            while True:
                async with journal.engine.connect() as conn:
                    entry = await journal.background.get(conn, run_id)
                if entry is None or not wait or entry.status not in ("queued", "running"):
                    return entry
                if progress is not None:
                    progress(entry.progress_done, entry.progress_total,
                             entry.progress_message or entry.status)
                await asyncio.sleep(_WAIT_POLL)
    finally:
        await journal.dispose()


def _render_one(entry: RunEntry, console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in entry.as_json().items():
        if value is None or key == "id":
            continue
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        table.add_row(key, Text(shown, style=_STYLES[entry.status]) if key == "status"
                      else shown)
    console.print(f"run {entry.id}")
    console.print(table)


@runs_command.command("show")
@click.argument("run_id", metavar="RUN", type=_RUN_ID)
@click.argument("database_url", required=False)
@_APP_OPTION
@click.option("--wait", is_flag=True,
              help="Wait until the run has ended (its progress shown on a terminal); exit 1 "
                   "unless it succeeded.")
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON.")
def show_command(run_id: int, database_url: str | None, app_path: str | None, wait: bool,
                 as_json: bool) -> None:
    """Show run RUN: its status, progress, and result or error; with --wait, once it has
    ended. Ctrl-C stops waiting, not the run."""
    with one_line_errors():
        url = _journal_url(database_url, app_path)
        try:
            entry = asyncio.run(_show(url, run_id, wait))
        except KeyboardInterrupt:
            click.echo(f"stopped waiting; run {run_id} goes on (flexorm runs cancel "
                       f"{run_id} stops it)", err=True)
            raise SystemExit(130) from None
    if entry is None:
        click.echo(f"Error: there is no run {run_id}", err=True)
        raise SystemExit(2)
    if as_json:
        click.echo(json.dumps(entry.as_json(), indent=2, ensure_ascii=False))
    else:
        _render_one(entry, data_console())
    if wait and entry.status != "succeeded":
        raise SystemExit(1)


@runs_command.command("cancel")
@click.argument("run_id", metavar="RUN", type=_RUN_ID)
@click.argument("database_url", required=False)
@_APP_OPTION
def cancel_command(run_id: int, database_url: str | None, app_path: str | None) -> None:
    """Cancel background run RUN: a queued run never starts; a running one stops at its next
    statement or progress call, and its writes are rolled back."""
    with one_line_errors():
        url = _journal_url(database_url, app_path)
        outcome = asyncio.run(_cancel(url, run_id))
    if not outcome.found:
        click.echo(f"Error: there is no background run {run_id}", err=True)
        raise SystemExit(2)
    if outcome.cancelled_now:
        click.echo(f"run {run_id}: cancelled (it had not started)")
    elif outcome.stopping:
        click.echo(f"run {run_id}: cancelling (it stops at its next statement or progress "
                   "call, and is rolled back)")
    else:
        click.echo(f"run {run_id} already ended: {outcome.status}")
        raise SystemExit(1)


_AGE = re.compile(r"^\s*(\d+)\s*([dhm]?)\s*$")
_UNITS = {"d": "days", "": "days", "h": "hours", "m": "minutes"}
_MAX_AGE = dt.timedelta(days=36_525)


def parse_age(text: str) -> dt.timedelta:
    """``30d``, ``12h``, ``90m`` or a number of days.

    Examples:
        >>> parse_age("30d"), parse_age("12h")
        (datetime.timedelta(days=30), datetime.timedelta(seconds=43200))
    """
    found = _AGE.match(text)
    if found is None:
        raise ConfigurationError(f"--older-than must look like 30d, 12h or 90m, not {text!r}")
    number, unit = found.groups()
    age = dt.timedelta(**{_UNITS[unit]: min(int(number), 10**8)})
    if age > _MAX_AGE:
        raise ConfigurationError(f"--older-than must be at most 100 years, not {text!r}")
    return age


async def _prune(url: str, age: dt.timedelta) -> int:
    journal = await _open_journal(url)
    try:
        with database_errors(url):
            async with journal.engine.begin() as conn:
                return await journal.background.prune(conn, utcnow() - age)
    finally:
        await journal.dispose()


@runs_command.command("prune")
@click.option("--older-than", "older_than", required=True, metavar="AGE",
              help="Delete finished runs that started longer ago than this: 30d, 12h, 90m.")
@click.argument("database_url", required=False)
@_APP_OPTION
def prune_command(older_than: str, database_url: str | None, app_path: str | None) -> None:
    """Delete finished runs (of every action, background or not) older than AGE; queued and
    running runs are kept. The setting run_retention_days does this continuously."""
    with one_line_errors():
        age = parse_age(older_than)
        url = _journal_url(database_url, app_path)
        count = asyncio.run(_prune(url, age))
    click.echo(f"{count} run{'' if count == 1 else 's'} deleted")
