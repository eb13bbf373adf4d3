"""``/mcp``: flexorm's MCP server over Streamable HTTP, mounted on the flexorm app.

The endpoint authenticates every request as ``/api/messages/`` does (``Authorization: Bearer``
shared keys, Jet Admin's ``JWT``...; 403 in the protocol's shape otherwise), puts the caller and
the runtime serving it on the request, and hands it to the SDK's session manager. A browser's
preflight (``OPTIONS``, which carries no credentials) is answered ``204`` as on flexorm's other
routes, with the CORS headers of :mod:`flexorm.server.cors`. A body larger than flexorm's limit
(2 MiB unless configured otherwise) is refused as the other routes refuse it, with a 413 whose
body is a JSON-RPC error, as the SDK answers a request it cannot read.

The manager runs stateless, answering JSON: every request stands alone, so any worker of a
multi-process server can answer it and no session outlives a request. A handshake-era (2025)
client's plain requests are answered in the request's own task (:mod:`flexorm.mcp.exchange`),
as the manager answers a 2026 client's, rather than through a transport and a server task built
for each.

The SDK is imported on the first request that reaches ``/mcp``, not at startup: a server whose
clients never use MCP never loads it. ``FLEXORM_MCP=0`` turns the endpoint off (404).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup, TaskStatus
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import (
    ClientException,
    NotFoundException,
    ServiceUnavailableException,
)
from litestar.types import Receive, Scope, Send

from flexorm.mcp.scope import SCOPE_KEY, CallScope
from flexorm.protocol.encoding import encode_json
from flexorm.protocol.errors import http_error_body
from flexorm.server.cors import answer_preflight
from flexorm.server.guards import authenticate_request, running_state
from flexorm.server.incoming import read_body, replaying, request_headers
from flexorm.server.state import ServerState

if TYPE_CHECKING:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

    from flexorm.mcp.exchange import Exchange

__all__ = ["MCP_PATH", "McpEndpoint"]

MCP_PATH = "/mcp"


TRANSPORT_LOGGER = "mcp.server.streamable_http"
"""The SDK's transport logs one INFO line per request it serves statelessly ("Terminating
session: None")."""


def _quiet_transport() -> None:
    """Keep the SDK transport's per-request INFO line out of the server's output (a Litestar
    app configures the root logger at INFO): one line per request of a 2025 client's
    handshake (and per request the exchange leaves to the manager), telling nothing. Its
    warnings and errors still show; a level the application set on that logger is left as
    it is."""
    transport = logging.getLogger(TRANSPORT_LOGGER)
    if transport.level == logging.NOTSET:
        transport.setLevel(logging.WARNING)


_ALLOW = "DELETE, GET, OPTIONS, POST"
"""The methods the Streamable HTTP transport answers (and the preflight)."""


_INVALID_REQUEST = -32600
"""JSON-RPC's code for a request that is not a valid one (the SDK's for a body it cannot read)."""


async def _refuse(send: Send, exc: ClientException) -> None:
    """Refuse a request whose body flexorm does not read, with the HTTP status of ``exc``: a
    JSON-RPC error, as the SDK answers a request it cannot read (an MCP client shows its
    message), whose ``data`` is the body flexorm's other routes answer."""
    answer = {"jsonrpc": "2.0", "id": None, "error": {
        "code": _INVALID_REQUEST, "message": exc.detail,
        "data": http_error_body(exc.detail, type(exc).__name__)}}
    body = encode_json(answer)
    await send({"type": "http.response.start", "status": exc.status_code,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _serving(state: ServerState) -> None:
    """Raises NotFoundException (404) when the settings turned the MCP server off."""
    if not state.runtime.settings.mcp:
        raise NotFoundException("the MCP server is off (FLEXORM_MCP=0)")


class McpEndpoint:
    """The ASGI side of ``/mcp``: authentication, then the SDK's session manager.

    Args:
        max_body_size: the largest request body accepted (bytes), as on flexorm's other routes.
    """

    def __init__(self, *, max_body_size: int) -> None:
        self._max_body_size = max_body_size
        self._tasks: TaskGroup | None = None
        self._entry: Exchange | None = None
        self._starting = anyio.Lock()

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Any) -> AsyncIterator[None]:
        """Holds the task group the session manager runs in, once a request started it."""
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            try:
                yield
            finally:
                self._tasks = None
                self._entry = None  # a manager runs once: the next start builds a new one
                tasks.cancel_scope.cancel()

    async def _run(self, manager: StreamableHTTPSessionManager, *,
                   task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        async with manager.run():
            task_status.started()
            await anyio.sleep_forever()

    async def entry(self) -> Exchange:
        """The running session manager's entry; built (and the SDK imported) on first use."""
        if self._entry is not None:
            return self._entry
        async with self._starting:
            if self._entry is None:
                if self._tasks is None:
                    raise ServiceUnavailableException("flexorm is not running")
                from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
                from mcp.server.transport_security import TransportSecuritySettings

                from flexorm.mcp.exchange import Exchange
                from flexorm.mcp.server import LIFESPAN_STATE, build_server

                _quiet_transport()
                # the SDK's own default (no DNS-rebinding check: the endpoint authenticates
                # every request), built once rather than on every request
                security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
                manager = StreamableHTTPSessionManager(
                    app=build_server(), json_response=True, stateless=True,
                    security_settings=security, max_request_body_size=self._max_body_size)
                await self._tasks.start(self._run, manager)
                self._entry = Exchange(manager, LIFESPAN_STATE)
        return self._entry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope, receive, send)
        if scope["type"] == ScopeType.HTTP and scope["method"] == "OPTIONS":
            # a browser's preflight, which carries no credentials
            _serving(running_state(connection))
            await answer_preflight(send, _ALLOW)
            return
        authorization, length = request_headers(scope, b"authorization", b"content-length")
        state, caller = await authenticate_request(connection, authorization)
        _serving(state)
        if scope["type"] == ScopeType.HTTP and scope["method"] == "POST":
            try:
                body = await read_body(receive, self._max_body_size, length)
            except ClientException as exc:  # too large (413), or a length that is no number
                await _refuse(send, exc)
                return
            receive = replaying(body, then=receive)  # the client's going away still shows
        runtime = state.runtime
        call = CallScope(service=runtime.actions, schema=runtime.schema, caller=caller)
        scope[SCOPE_KEY] = call  # type: ignore[literal-required]
        entry = await self.entry()
        await entry(scope, receive, send)  # type: ignore[arg-type]
