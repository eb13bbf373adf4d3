"""``POST /api/actions/...``, the OpenAPI document's routes, and ``/mcp`` on one router.

The operations authenticate as ``/api/messages/`` does, read the body as one JSON object and
run the action through :func:`flexorm.calls.call` (journaled as ``http``). The OpenAPI
document needs the same credentials unless ``publish_schema`` is set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, unquote

from litestar import Request, Response, Router, asgi, get, post
from litestar.exceptions import NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.status_codes import HTTP_200_OK
from litestar.types import Receive, Scope, Send

from flexorm.calls.names import ACTIONS_PATH
from flexorm.mcp.endpoint import MCP_PATH, McpEndpoint
from flexorm.protocol.body import parse_object
from flexorm.protocol.encoding import encode_json
from flexorm.protocol.headers import request_id
from flexorm.server.errors import exception_handlers
from flexorm.server.guards import authenticate_request, running_state
from flexorm.server.incoming import read_body, replaying, request_headers

__all__ = ["OPENAPI_PATH", "SCHEMA_PATH", "operations_router"]

OPENAPI_PATH = "/api/openapi.json"
SCHEMA_PATH = "/schema/openapi.json"
"""Where Litestar serves its own document; flexorm's replaces it when flexorm is the app."""

_JSON = "application/json"


def _operation_key(request: Request[Any, Any, Any]) -> str:
    """The operation's path as the catalog keys it, each part percent-encoded the one way
    :func:`~flexorm.calls.names.operation_path` does. Parts are split on the path as sent
    (``raw_path``), so a ``/`` sent as ``%2F`` inside a name stays inside it."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path
    start = path.find(ACTIONS_PATH + "/")
    tail = path[start + len(ACTIONS_PATH):] if start >= 0 else ""
    decode = unquote if isinstance(raw, bytes) else str
    return ACTIONS_PATH + "".join("/" + quote(decode(part), safe="")
                                  for part in tail.strip("/").split("/"))


def operations_router(*, max_body_size: int, mcp: McpEndpoint | None = None,
                      schema_paths: Sequence[str] = (OPENAPI_PATH,)) -> Router:
    """flexorm's routes beyond Jet Admin's protocol.

    Args:
        max_body_size: the largest operation body accepted (bytes); larger ones answer 413.
        mcp: the MCP endpoint to mount at ``/mcp``; ``None`` mounts none.
        schema_paths: where to answer the OpenAPI document.
    """

    @post(
        ACTIONS_PATH + "/{path:path}",
        status_code=HTTP_200_OK,
        request_max_body_size=max_body_size,
        include_in_schema=False,  # each action is in flexorm's own document
    )
    async def run_action(request: Request[Any, Any, Any]) -> Response[bytes]:
        # the headers and the body read as /api/messages/ reads them: one pass each
        authorization, length, key, request_id_header = request_headers(
            request.scope, b"authorization", b"content-length", b"idempotency-key",
            b"x-request-id")
        state, caller = await authenticate_request(request, authorization)
        from flexorm.calls.catalog import catalog  # on the first call, not at startup
        from flexorm.calls.invoke import call

        service = state.runtime.actions
        entry = catalog(service).by_path.get(_operation_key(request))
        if entry is None:
            raise NotFoundException(f"no action at {request.url.path[:200]}")
        body = await read_body(request.receive, max_body_size, length)
        arguments = parse_object(body)
        # the request the action sees reads the body again (its raw_request)
        readable: Request[Any, Any, Any] = Request(request.scope, replaying(body), request.send)
        answer = await call(service, entry, arguments, caller=caller, interface="http",
                            raw_request=readable, request_id=request_id(request_id_header),
                            idempotency_key=key or None)
        return Response(content=encode_json(answer), media_type=_JSON)

    @get(list(schema_paths), include_in_schema=False)
    async def openapi(request: Request[Any, Any, Any]) -> Response[bytes]:
        state = running_state(request)
        if not state.runtime.settings.publish_schema:
            state, _ = await authenticate_request(request, request.headers.get("authorization"))
        from flexorm.operations.document import openapi_json  # on first use, not at startup

        secured = not state.authenticator.insecure
        return Response(content=openapi_json(state.runtime.actions, secured=secured),
                        media_type=_JSON)

    handlers: list[BaseRouteHandler] = [run_action, openapi]
    if mcp is not None:
        endpoint = mcp

        @asgi(MCP_PATH, is_mount=True, copy_scope=False)  # the caller goes on the scope
        async def mcp_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
            await endpoint(scope, receive, send)

        handlers.append(mcp_endpoint)
    return Router(path="/", route_handlers=handlers, exception_handlers=exception_handlers())
