"""``flexorm worker``: run background actions from the PostgreSQL queue."""

from __future__ import annotations

import asyncio

import click

from flexorm._url import parse_url, redact_url
from flexorm.cli._errors import one_line_errors
from flexorm.cli._target import Target, load_target
from flexorm.exceptions import ConfigurationError
from flexorm.settings import Settings

__all__ = ["room_for", "worker_command"]


async def _work(target: Target, concurrency: int) -> None:
    from flexorm.background.queue import Queue
    from flexorm.background.worker import run_worker

    async with target.runtime() as runtime:
        background = runtime.background
        if background is None:
            raise ConfigurationError("the app declares no background action "
                                     "(@flex.action(..., background=True))")
        assert isinstance(background, Queue)  # the command asked for the queue
        assert runtime.journal is not None
        await run_worker(lambda: runtime.actions, runtime.journal, runtime.database, background,
                         runtime.settings, concurrency=concurrency)


@click.command("worker")
@click.option("--app", "app_path", metavar="MODULE:ATTR", required=True,
              help="The Flex object (or the Litestar app it built) whose background actions "
                   "to run, imported from the current directory.")
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(min=1),
              help="How many runs this process runs at once.")
def worker_command(app_path: str, concurrency: int) -> None:
    """Run background actions from the PostgreSQL queue, until stopped (Ctrl-C, SIGTERM).

    Start as many workers as you like, on as many machines as reach the state database.
    """
    with one_line_errors(2):
        target = load_target(None, app_path)
        state = target.settings.journal_url
        if state is None or parse_url(state).get_backend_name() != "postgresql":
            raise ConfigurationError(
                "flexorm worker runs the PostgreSQL queue, but this app's state database is "
                f"{redact_url(state) if state else 'not set'}: set FLEXORM_STATE_URL to a "
                "PostgreSQL database (the server runs background actions itself without one)")
        asyncio.run(_work(target.with_overrides(background_runner="queue",
                                                **room_for(target.settings, concurrency)),
                          concurrency))


def room_for(settings: Settings, concurrency: int) -> dict[str, int]:
    """Each run a worker runs holds a connection to the database for its length, and the
    worker needs two more (a run's cancel, its claims): pools too small for ``concurrency``
    get the overflow that makes room, rather than runs that wait for a connection and fail
    busy.

    Examples:
        >>> room_for(Settings(pool_size=5, max_overflow=10), 20)
        {'max_overflow': 17}
        >>> room_for(Settings(), 4)
        {}
    """
    wanted = concurrency + 2
    if settings.pool_size + settings.max_overflow >= wanted:
        return {}
    return {"max_overflow": wanted - settings.pool_size}
