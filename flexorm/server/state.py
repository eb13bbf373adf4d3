"""What the server keeps between requests, on ``app.state`` (set up by the lifespan)."""

from __future__ import annotations

from dataclasses import dataclass, field

from litestar.datastructures import State

from flexorm.auth.authenticate import Authenticator
from flexorm.runtime import Runtime
from flexorm.server.etag import Tagged

__all__ = ["STATE_KEY", "ServerState", "server_state"]

STATE_KEY = "flexorm"
"""The ``app.state`` key of the :class:`ServerState`."""


@dataclass(slots=True)
class ServerState:
    """The running runtime, the authenticator built from its settings, and cached answers."""

    runtime: Runtime
    authenticator: Authenticator
    model_descriptions: Tagged | None = field(default=None)
    """``GET /api/model_descriptions/``, encoded (and tagged) on first use and kept."""


def server_state(state: State) -> ServerState | None:
    """The server state, or ``None`` while the lifespan has not run (or has ended)."""
    value = state.get(STATE_KEY)
    return value if isinstance(value, ServerState) else None
