"""``flexorm serve``: run the Jet Admin endpoint with uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import secrets
import shlex
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from flexorm.auth.authenticate import Authenticator
from flexorm.cli._errors import fail, one_line_errors
from flexorm.cli._progress import reflection_progress
from flexorm.cli._target import Target, load_target
from flexorm.exceptions import ConfigurationError
from flexorm.protocol.names import GET_ACTION_LIST
from flexorm.reflection import Progress
from flexorm.server.routes import MESSAGES_PATH

if TYPE_CHECKING:
    import uvicorn

__all__ = ["curl_command", "serve_command"]

_LOAD_FAILED = 2
_STARTUP_FAILED = 3  # uvicorn's own status when the app does not start
_ENV_TOKEN = "$FLEXORM_TOKEN"  # noqa: S105 - a shell variable for the curl, not a secret


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything is printed, so that a port in use is one
    line and exit 2 rather than a banner followed by uvicorn's traceback-free failure.

    Raises:
        SystemExit: the address cannot be bound.
    """
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        where = f"{host}:{port}"
        if exc.errno == errno.EADDRINUSE:
            fail(f"{where} is already in use: stop what listens there, or pass --port", 2)
        fail(f"cannot listen on {where}: {exc.strerror or exc}", 2)
    sock.set_inheritable(True)
    return sock


class _Interrupts:
    """SIGINT and SIGTERM received while ``serve`` runs, and what each one stops.

    While the runtime opens (reflection can take seconds on a large schema), a signal cancels the
    start. Once the server exists, it asks uvicorn to shut down: uvicorn's own handler does that
    while it serves, but a signal between the banner and uvicorn's start would otherwise be
    recorded and forgotten, leaving the server running. Every signal is raised again once the
    runtime is closed (SIGINT then ends the command as Ctrl+C does): raised inside the event loop
    it would cancel the runtime's closing.
    """

    def __init__(self) -> None:
        self.received: list[int] = []
        self._start: tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]] | None = None
        self._server: uvicorn.Server | None = None

    def starting(self) -> None:
        """The current task opens the runtime: a signal from now on cancels it."""
        task = asyncio.current_task()
        if task is not None:
            self._start = (asyncio.get_running_loop(), task)

    def serving(self, server: uvicorn.Server) -> None:
        """``server`` is about to serve: a signal from now on shuts it down."""
        self._server, self._start = server, None
        if self.received:
            server.should_exit = True

    def checked(self, progress: Progress | None) -> Progress:
        """``progress``, stopping reflection at its next tick once a signal came: a SQLite
        file is reflected in a worker thread, which a cancelled start would otherwise wait
        for until the whole schema is read."""

        def tick(done: int, total: int) -> None:
            if self.received:
                raise asyncio.CancelledError
            if progress is not None:
                progress(done, total)

        return tick

    def __call__(self, number: int, frame: FrameType | None) -> None:
        self.received.append(number)
        if self._server is not None:
            self._server.should_exit = True
        elif self._start is not None:
            loop, task = self._start
            loop.call_soon_threadsafe(task.cancel)


async def _serve(target: Target, config: uvicorn.Config, ready: Callable[[int, int], None],
                 interrupts: _Interrupts) -> bool:
    """Open the runtime, so that a bad URL or action fails here in one line rather than in
    uvicorn; bind the port; call ``ready`` with the number of actions and the bound port; then
    serve on the same event loop, where the app's lifespan shares the runtime already open
    instead of opening it a second time.

    Returns:
        Whether the server started.
    """
    import uvicorn

    interrupts.starting()
    async with contextlib.AsyncExitStack() as stack:
        with one_line_errors(_LOAD_FAILED), reflection_progress() as progress:
            runtime = await stack.enter_async_context(
                target.runtime(interrupts.checked(progress)))
        sock = stack.enter_context(_bind(config.host, config.port))
        # Startup's objects (modules, the reflected schema, bound actions) live as long as the
        # process: out of the collector's reach, its passes during requests stay short.
        gc.freeze()
        server = uvicorn.Server(config)
        interrupts.serving(server)
        ready(len(runtime.actions.action_list()), int(sock.getsockname()[1]))
        await server.serve(sockets=[sock])
        return server.started


@contextlib.contextmanager
def _signals_after_cleanup() -> Iterator[_Interrupts]:
    """Route SIGINT/SIGTERM to an :class:`_Interrupts` until the block is over, then raise the
    signals it received (outside the main thread, where signals cannot be caught: nothing)."""
    interrupts = _Interrupts()
    if threading.current_thread() is not threading.main_thread():
        yield interrupts
        return
    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, interrupts) for sig in handled}
    try:
        yield interrupts
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for number in reversed(interrupts.received):
        signal.raise_signal(number)


def _base_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else ("[::1]" if host == "::" else host)  # noqa: S104
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def curl_command(url: str, token: str | None) -> str:
    """A copy-paste ``curl`` that lists the actions (``token`` ``None``: no header)."""
    parts = ["curl", "-s", "-X", "POST", url]
    if token is not None:
        parts += ["-H", f"Authorization: Bearer {token}"]
    parts += ["-H", "Content-Type: application/json", "-d", f'{{"name": "{GET_ACTION_LIST}"}}']
    command = shlex.join(parts)
    # Leave $FLEXORM_TOKEN for the shell to expand.
    return command.replace("'Authorization: Bearer $FLEXORM_TOKEN'",
                           '"Authorization: Bearer $FLEXORM_TOKEN"')


def _authorize(target: Target, given: tuple[str, ...]) -> tuple[Target, str | None]:
    """The target to serve and the token to print: one given with ``--token`` (the user may
    never have seen it, as with ``--token "$(...)"``), or one generated for the demo when none is
    configured; ``$FLEXORM_TOKEN`` for keys from the environment or the code; ``None`` when
    insecure.

    Raises:
        ConfigurationError: a user's database with neither a token nor ``--insecure``.
    """
    settings = target.settings
    if settings.insecure:
        return target, None
    if not settings.tokens and target.demo:
        token = secrets.token_urlsafe(24)
        return target.with_overrides(tokens=(token,)), token
    Authenticator.from_settings(settings)  # refuses to start without a token
    return target, (given[0] if given else _ENV_TOKEN)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


@click.command("serve")
@click.argument("database_url", required=False)
@click.option("--app", "app_path", metavar="MODULE:ATTR",
              help="A Flex object, or the Litestar app it built (imported from the current "
                   "directory).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--token", "tokens", multiple=True, metavar="KEY",
              help="A shared key accepted as 'Authorization: Bearer KEY' (repeatable; default "
                   "FLEXORM_TOKEN).")
@click.option("--insecure", is_flag=True,
              help="Serve without authorization. Local development only.")
@click.option("--schema", "schemas", multiple=True, help="A schema to reflect (repeatable).")
@click.option("--include", multiple=True, help="Glob of collections to serve (repeatable).")
@click.option("--exclude", multiple=True, help="Glob of collections to leave out (repeatable).")
@click.option("--access-log", is_flag=True,
              help="Log every request (off by default: a line per request costs throughput).")
def serve_command(
    database_url: str | None,
    app_path: str | None,
    host: str,
    port: int,
    tokens: tuple[str, ...],
    insecure: bool,
    schemas: tuple[str, ...],
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    access_log: bool,
) -> None:
    """Serve /api/messages/ for Jet Admin.

    With no DATABASE_URL and no --app, serves the bundled demo shop (./flexorm-demo.db, created
    on first run) with a freshly generated token.
    """
    import uvicorn

    with one_line_errors(_LOAD_FAILED):
        target = load_target(database_url, app_path, {
            "tokens": tokens, "insecure": insecure, "schemas": schemas, "include": include,
            "exclude": exclude,
        })
        try:
            target, token = _authorize(target, tokens)
        except ConfigurationError as exc:
            fail(exc.message, _LOAD_FAILED)
        target.prepare()
        app = target.server_app()

    def ready(count: int, bound: int) -> None:
        base = _base_url(host, bound)
        what = "the demo shop" if target.demo else "flexorm"
        database = target.settings.database_url or ""
        click.echo(f"Serving {what}: {_count(count, 'action')} on {base}{MESSAGES_PATH}")
        if target.demo:
            click.echo(f"  database: {database.removeprefix('sqlite:///')}")
        if token is None:
            click.secho("  WARNING: no authorization (--insecure): anyone who can reach this "
                        "server can run every action", fg="red", bold=True)
        elif token == _ENV_TOKEN:
            click.echo("  token:    as configured (FLEXORM_TOKEN, or in the code; the curl below "
                       "reads FLEXORM_TOKEN)")
        else:
            click.echo(f"  token:    {token}")
        click.echo("  try:")
        click.echo(f"    {curl_command(base + MESSAGES_PATH, token)}")

    # flexorm serves no websockets: not loading a websocket library saves startup time
    config = uvicorn.Config(app, host=host, port=port, log_level="info", access_log=access_log,
                            ws="none")
    started = False
    with (_signals_after_cleanup() as interrupts,
          asyncio.Runner(loop_factory=config.get_loop_factory()) as runner,
          contextlib.suppress(asyncio.CancelledError)):  # a signal stopped the start
        started = runner.run(_serve(target, config, ready, interrupts))
    if not started:
        raise SystemExit(_STARTUP_FAILED)
