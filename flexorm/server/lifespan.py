"""The lifespan: open the runtime at startup, keep it on ``app.state``, close it at shutdown."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from flexorm.auth.authenticate import Authenticator
from flexorm.exceptions import MigrationError
from flexorm.runtime import RuntimeHost
from flexorm.server.state import STATE_KEY, ServerState

if TYPE_CHECKING:
    from litestar import Litestar

__all__ = ["flexorm_lifespan"]

logger = logging.getLogger("flexorm.server")


def flexorm_lifespan(host: RuntimeHost) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """A lifespan context for ``AppConfig.lifespan`` that runs ``host``'s runtime.

    The runtime is opened when the app starts, not when it is built; a command that opened it
    first (with its own settings) shares it, and the authenticator follows the settings the
    runtime runs with.

    Raises:
        ConfigurationError: at startup, with no credentials configured and not ``insecure``, or
            with a JWT public key that cannot be read.
        MigrationError: at startup, flexorm's tables are missing or behind (and
            ``auto_upgrade`` is off); logged in one line saying what to run.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            async with host.runtime() as runtime:
                # Built here, inside the event loop that serves requests: the project_auth
                # client belongs to it. The JWT public key is parsed now, once.
                authenticator = Authenticator.from_settings(runtime.settings)
                try:
                    _announce(authenticator)
                    app.state[STATE_KEY] = ServerState(runtime=runtime,
                                                       authenticator=authenticator)
                    try:
                        yield
                    finally:
                        app.state.pop(STATE_KEY, None)
                finally:
                    await authenticator.aclose()
        except MigrationError as exc:
            # flexorm's tables are missing or behind: say what to run, in one line
            logger.error("flexorm cannot start: %s", exc.message)
            raise

    return lifespan


def _announce(authenticator: Authenticator) -> None:
    if authenticator.insecure:
        logger.warning(
            "flexorm is serving WITHOUT AUTHORIZATION (insecure mode): anyone who can reach "
            "this server can run every action. Use it for local development only."
        )
    else:
        logger.info("flexorm accepts Authorization: %s", ", ".join(authenticator.accepted))
