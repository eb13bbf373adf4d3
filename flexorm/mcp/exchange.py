"""A handshake-era client's request, answered in the request's own task.

The SDK's session manager, stateless, serves a client of the handshake protocols (2025-11-25
and before) by building a transport for every request, starting a server task with a dispatcher
that reads the request from a memory stream, and routing the reply back through another: several
tasks and streams, and as many turns of the event loop, per request. Its entry for 2026-07-28
clients answers a request in the request's own task instead, through the SDK's single-exchange
driver (:func:`mcp.server.runner.serve_one`).

:class:`Exchange` does the same for a handshake-era client's plain request: one JSON-RPC request
(not ``initialize``), posted as JSON by a client that takes a JSON answer, to a stateless
manager that answers JSON. The SDK's own kernel still does everything that makes the answer:
the request is read by the SDK's message adapter, validated for the client's protocol version,
run through the server's middleware (its OpenTelemetry span) and handler, and the result shaped
for that version; the connection is the born-ready one the stateless transport makes; a failure
becomes the error the transport's dispatcher writes; the reply goes out as the transport writes
it. Any other request (the handshake, notifications, responses, a body that does not parse, a
batch, a body too large or sent without a length, another method than POST, an SSE-only client,
a 2026 client, a stateful or SSE-answering manager) goes to the manager as it came, its body
replayed: those answers stay the SDK's.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import pydantic_core
from mcp import types
from mcp.server.connection import Connection
from mcp.server.runner import serve_one
from mcp.server.streamable_http import check_accept_headers
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecurityMiddleware
from mcp.shared.dispatcher import CallOptions
from mcp.shared.exceptions import NoBackChannelError
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from mcp.shared.jsonrpc_dispatcher import handler_exception_to_error_data
from mcp.shared.message import ServerMessageMetadata
from mcp.shared.transport_context import TransportContext
from mcp.types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from flexorm.server.incoming import request_headers

__all__ = ["Exchange"]

logger = logging.getLogger("flexorm.mcp")

_VERSION_HEADER = MCP_PROTOCOL_VERSION_HEADER.lower().encode("ascii")
_JSON = "application/json"
_TRANSPORT = TransportContext(kind="streamable-http", can_send_request=False)
"""What the stateless transport tells a handler about its request: no way back to the client
(no session for a reply to reach)."""


@dataclass
class _Reply:
    """The dispatch context of one request answered with one JSON body.

    As on the stateless transport in JSON mode: a request to the client fails (its answer
    could not come back), and notifications, progress included, are dropped (a JSON body
    carries the response only)."""

    request_id: types.RequestId
    message_metadata: ServerMessageMetadata
    transport: TransportContext = _TRANSPORT
    cancel_requested: anyio.Event = field(default_factory=anyio.Event)

    @property
    def can_send_request(self) -> bool:
        return False

    async def send_raw_request(self, method: str, params: Mapping[str, Any] | None,
                               opts: CallOptions | None = None) -> dict[str, Any]:
        raise NoBackChannelError(method)

    async def notify(self, method: str, params: Mapping[str, Any] | None,
                     opts: CallOptions | None = None) -> None:
        logger.debug("dropped %s: a JSON answer carries the response only", method)

    async def progress(self, progress: float, total: float | None = None,
                       message: str | None = None) -> None:
        return None


def _content_type_is_json(value: str) -> bool:
    """Both checks the SDK makes of a POST's ``Content-Type`` (security, then transport)."""
    parts = [part.strip() for part in value.split(";")[0].split(",")]
    return value.lower().startswith(_JSON) and _JSON in parts


class Exchange:
    """The manager's ASGI entry, answering a handshake-era client's plain request itself.

    Args:
        manager: the session manager (running) that answers everything else.
        lifespan_state: what the server's lifespan yielded, as the manager passes it on.
    """

    def __init__(self, manager: StreamableHTTPSessionManager, lifespan_state: Any) -> None:
        self._manager = manager
        self._state = lifespan_state
        self._security = TransportSecurityMiddleware(manager.security_settings)
        self._direct = manager.stateless and manager.json_response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        version = self._version(scope)
        if version is None:
            await self._manager.handle_request(scope, receive, send)
            return
        read: deque[Message] = deque()

        async def replay() -> Message:
            return read.popleft() if read else await receive()

        request = Request(scope, replay)
        has_json, _ = check_accept_headers(request)
        if not has_json or await self._security.validate_request(request, is_post=True):
            await self._manager.handle_request(scope, receive, send)
            return
        body = await self._body(receive, read)
        message = self._message(body) if body is not None else None
        if message is None:
            await self._manager.handle_request(scope, replay, send)
            return
        reply = await self._answer(message, request, version)
        response = Response(reply.model_dump_json(by_alias=True, exclude_unset=True),
                            status_code=200, headers={"Content-Type": _JSON})
        await response(scope, replay, send)

    def _version(self, scope: Scope) -> str | None:
        """The request's protocol version, if its headers let it be answered here."""
        if not self._direct or scope["method"] != "POST":
            return None
        # the first value of each, as the session manager reads them
        version, content_type, length = request_headers(
            scope, _VERSION_HEADER, b"content-type", b"content-length")
        if version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS:
            return None  # a 2026 client: the manager's own single-exchange entry
        if content_type is None or not _content_type_is_json(content_type):
            return None
        if (length is None or not length.isdigit()
                or int(length) > self._manager.max_request_body_size):
            return None
        return version if version is not None else types.DEFAULT_NEGOTIATED_VERSION

    async def _body(self, receive: Receive, read: deque[Message]) -> bytes | None:
        """The whole body, or None if something else came first or it is too large; what
        was read is queued in ``read`` (the body as one message, as the manager's body
        limit passes it on), for the manager to read again."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                if chunks:
                    read.append({"type": "http.request", "body": b"".join(chunks),
                                 "more_body": True})
                read.append(message)
                return None
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = bool(message.get("more_body", False))
            if size > self._manager.max_request_body_size or not more:
                body = b"".join(chunks)
                read.append({"type": "http.request", "body": body, "more_body": more})
                return None if more else body

    @staticmethod
    def _message(body: bytes) -> types.JSONRPCRequest | None:
        """The request in ``body``, read as the transport reads it; None for anything the
        manager must answer (the handshake, a notification, what does not read)."""
        try:
            message = types.jsonrpc_message_adapter.validate_python(
                pydantic_core.from_json(body), by_name=False)
        except (ValueError, ValidationError):  # a ValidationError is a ValueError too
            return None
        if not isinstance(message, types.JSONRPCRequest) or message.method == "initialize":
            return None
        return message

    async def _answer(self, message: types.JSONRPCRequest, request: Request,
                      version: str) -> types.JSONRPCResponse | types.JSONRPCError:
        """The reply to ``message``, as the stateless transport's dispatcher writes it."""
        context = _Reply(request_id=message.id, message_metadata=ServerMessageMetadata(
            request_context=request, can_send_request=False))
        connection = Connection.from_envelope(version, None, None)
        try:
            result = await serve_one(self._manager.app, context, message.method, message.params,
                                     connection=connection, lifespan_state=self._state)
        except Exception as exc:
            error = handler_exception_to_error_data(exc)
            if error is None:
                logger.exception("the MCP handler for %r raised", message.method)
                error = types.ErrorData(code=0, message=str(exc))
            return types.JSONRPCError(jsonrpc="2.0", id=message.id, error=error)
        return types.JSONRPCResponse(jsonrpc="2.0", id=message.id, result=result)
