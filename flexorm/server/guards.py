"""Authentication on flexorm's protected routes, done inline by the handlers.

Not a Litestar guard nor a dependency: both cost a noticeable share of a cached
``get_action_list`` answer (Litestar resolves dependencies in a task group per request), so the
handlers call :func:`authenticate_request` first thing instead.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import ServiceUnavailableException

from flexorm.auth.caller import Caller
from flexorm.server.state import STATE_KEY, ServerState

__all__ = ["authenticate_request", "running_state"]


def running_state(connection: ASGIConnection[Any, Any, Any, Any]) -> ServerState:
    """The server state of a started app.

    Raises:
        ServiceUnavailableException: the app's lifespan has not started flexorm.
    """
    state = connection.app.state.get(STATE_KEY)
    if not isinstance(state, ServerState):
        raise ServiceUnavailableException("flexorm is not running (its lifespan has not started)")
    return state


async def authenticate_request(
    connection: ASGIConnection[Any, Any, Any, Any], authorization: str | None,
) -> tuple[ServerState, Caller]:
    """The running server state and the caller the ``Authorization`` header proves.

    Args:
        connection: the request.
        authorization: its ``Authorization`` header (the route reads the headers it needs in
            one pass).

    The state is read once, here: a request keeps the runtime it started with even when a
    ``reload_schema`` swaps in a new one meanwhile.

    Raises:
        ServiceUnavailableException: the app's lifespan has not started flexorm (503).
        NotAuthenticated: the configured credentials refuse the header (answered 403 by
            :mod:`flexorm.server.errors`).
    """
    state = running_state(connection)
    caller = await state.authenticator.authenticate(authorization)
    return state, caller
