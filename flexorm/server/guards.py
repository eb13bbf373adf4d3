"""The guard on flexorm's protected routes: authenticate, then keep the caller on the request."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import ServiceUnavailableException
from litestar.handlers import BaseRouteHandler

from flexorm.auth.caller import Caller
from flexorm.server.state import ServerState, server_state

__all__ = ["CALLER_KEY", "require_caller", "running_state"]

CALLER_KEY = "flexorm_caller"
"""The request-state key of the authenticated :class:`Caller`."""


def running_state(connection: ASGIConnection[Any, Any, Any, Any]) -> ServerState:
    """The server state of a started app.

    Raises:
        ServiceUnavailableException: the app's lifespan has not started flexorm.
    """
    state = server_state(connection.app.state)
    if state is None:
        raise ServiceUnavailableException("flexorm is not running (its lifespan has not started)")
    return state


async def require_caller(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Refuse a request whose ``Authorization`` header the configured credentials do not accept.

    The verified caller is kept on the request's state for :func:`request_caller`, and from
    there it reaches the action (``ctx.caller``).

    Raises:
        NotAuthenticated: answered 403 by :mod:`flexorm.server.errors`.
    """
    caller = await running_state(connection).authenticator.authenticate(
        connection.headers.get("authorization")
    )
    connection.state[CALLER_KEY] = caller


def request_caller(connection: ASGIConnection[Any, Any, Any, Any]) -> Caller:
    """The caller that :func:`require_caller` authenticated."""
    caller = connection.state.get(CALLER_KEY)
    if not isinstance(caller, Caller):  # a route without the guard: a wiring mistake
        raise RuntimeError("no authenticated caller on this request")
    return caller
