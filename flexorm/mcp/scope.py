"""What the ``/mcp`` endpoint puts on a request for the MCP handlers: caller and runtime."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flexorm.actions.service import ActionService
from flexorm.auth.caller import Caller
from flexorm.reflection.records import SchemaInfo

__all__ = ["SCOPE_KEY", "CallScope", "call_scope"]

SCOPE_KEY = "flexorm.call"
"""The ASGI scope key holding the request's :class:`CallScope`."""


@dataclass(frozen=True, slots=True)
class CallScope:
    """Who is calling, and the runtime that serves them (for the whole request)."""

    service: ActionService
    schema: SchemaInfo
    caller: Caller


def call_scope(request: Any) -> CallScope | None:
    """The call scope the endpoint put on an HTTP request (an ASGI request object)."""
    scope = getattr(request, "scope", None)
    found = scope.get(SCOPE_KEY) if isinstance(scope, dict) else None
    return found if isinstance(found, CallScope) else None

