"""flexorm's route handlers: ``/api/messages/``, ``/api/model_descriptions/`` and ``/health``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from litestar import Request, Response, Router, get, post
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_304_NOT_MODIFIED,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from litestar.types import ASGIApp  # a handler return type, which Litestar reads

from flexorm.protocol.body import parse_message
from flexorm.protocol.encoding import encode_json
from flexorm.reflection import encoded_model_descriptions
from flexorm.server.errors import exception_handlers
from flexorm.server.etag import Tagged, matches
from flexorm.server.guards import authenticate_request
from flexorm.server.incoming import read_body, request_headers
from flexorm.server.messages import MessageContext, MessageHandler, answer
from flexorm.server.raw import JSON
from flexorm.server.state import server_state

__all__ = ["HEALTH_PATH", "MESSAGES_PATH", "MODEL_DESCRIPTIONS_PATH", "flexorm_router"]

MESSAGES_PATH = "/api/messages/"
MODEL_DESCRIPTIONS_PATH = "/api/model_descriptions/"
HEALTH_PATH = "/health"


def flexorm_router(handlers: Mapping[str, MessageHandler], *, max_body_size: int,
                   raw: bool = True) -> Router:
    """A router holding flexorm's routes and their error handlers.

    The protected routes authenticate inline (:func:`~flexorm.server.guards.authenticate_request`)
    rather than through a guard or dependencies: ``get_action_list`` is a cached answer, and
    Litestar's per-request dependency resolution would cost more than the answer itself.

    Args:
        handlers: message name to handler, for ``/api/messages/``.
        max_body_size: the largest request body accepted (bytes); larger ones answer 413.
        raw: JSON answers may skip ``Response`` (:mod:`flexorm.server.raw`): the app has no
            ``after_request`` hook, app-wide headers or cookies to add to them.
    """

    @post(
        MESSAGES_PATH,
        status_code=HTTP_200_OK,
        request_max_body_size=max_body_size,
        summary="Jet Admin messages",
        description="get_action_list, execute_action, get_field_options (Jet Admin protocol).",
        tags=["flexorm"],
    )
    async def messages(request: Request[Any, Any, Any]) -> ASGIApp:
        # Answers a Response or a RawJson: Litestar sends a returned Response as any other, and
        # calls any other returned ASGI app (the return annotation says it may get one).
        authorization, content_type, length = request_headers(
            request.scope, b"authorization", b"content-type", b"content-length")
        state, caller = await authenticate_request(request, authorization)
        body = await read_body(request.receive, max_body_size, length)
        message = parse_message(body, content_type)
        context = MessageContext(message=message, runtime=state.runtime, caller=caller,
                                 received=request, body=body)
        return cast("ASGIApp", await answer(context, handlers, raw=raw))

    @get(
        MODEL_DESCRIPTIONS_PATH,
        summary="Collections and fields",
        description="Every reflected collection, as jet-bridge describes it.",
        tags=["flexorm"],
    )
    async def descriptions(request: Request[Any, Any, Any]) -> Response[bytes]:
        authorization, if_none_match = request_headers(
            request.scope, b"authorization", b"if-none-match")
        state, _ = await authenticate_request(request, authorization)
        tagged = state.model_descriptions
        if tagged is None:
            tagged = Tagged.of(encoded_model_descriptions(state.runtime.schema, encode_json))
            state.model_descriptions = tagged
        headers = {"ETag": tagged.etag, "Cache-Control": "no-cache"}
        if matches(if_none_match, tagged.etag):
            return Response(content=b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(content=tagged.body, media_type=JSON, headers=headers)

    @get(HEALTH_PATH, summary="Health check", tags=["flexorm"])
    async def health(request: Request[Any, Any, Any]) -> Response[bytes]:
        state = server_state(request.app.state)
        if state is None:
            return Response(content=encode_json({"status": "starting"}),
                            status_code=HTTP_503_SERVICE_UNAVAILABLE, media_type=JSON)
        database = state.runtime.database
        if database.busy():  # a ping would wait for a connection, then call it down
            return Response(content=encode_json({"status": "busy",
                                                 "error_code": "database_busy"}),
                            status_code=HTTP_503_SERVICE_UNAVAILABLE, media_type=JSON)
        if not await database.reachable():
            return Response(content=encode_json({"status": "down",
                                                 "error_code": "database_unavailable"}),
                            status_code=HTTP_503_SERVICE_UNAVAILABLE, media_type=JSON)
        return Response(content=encode_json({"status": "ok"}), media_type=JSON)

    return Router(
        path="/",
        route_handlers=[messages, descriptions, health],
        exception_handlers=exception_handlers(),
    )
