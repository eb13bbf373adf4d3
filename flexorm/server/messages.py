"""Answering the messages of ``POST /api/messages/``, by name (protocol section 2)."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import anyio.to_thread
from litestar import Request, Response

from flexorm.auth.caller import Caller
from flexorm.exceptions import PermissionDenied, RequestError
from flexorm.protocol import names
from flexorm.protocol.encoding import encode_json
from flexorm.protocol.execute import parse_execute
from flexorm.protocol.field_options import parse_field_options
from flexorm.protocol.requests import ExecuteRequest, Message
from flexorm.runtime import Runtime
from flexorm.server.guards import running_state
from flexorm.server.raw import JsonBytes

__all__ = [
    "BUILTIN_HANDLERS",
    "RELOAD_SCHEMA",
    "MessageContext",
    "MessageHandler",
    "answer",
    "as_message_handler",
    "json_response",
]

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class MessageContext:
    """What a message handler gets."""

    message: Message
    runtime: Runtime
    caller: Caller
    request: Request[Any, Any, Any]


MessageHandler = Callable[[MessageContext], Awaitable[Any]]
"""Answers one message: a :class:`Response`, or a value encoded as the JSON answer."""

RELOAD_SCHEMA = "reload_schema"
"""flexorm's own message (not Jet Admin's): take a changed schema without a restart."""


def as_message_handler(function: Callable[[MessageContext], Any]) -> MessageHandler:
    """A user's handler, sync (run in a worker thread) or async, as a :data:`MessageHandler`."""
    if inspect.iscoroutinefunction(function):
        return cast("MessageHandler", function)

    async def handler(ctx: MessageContext) -> Any:
        result = await anyio.to_thread.run_sync(function, ctx)
        return await result if inspect.isawaitable(result) else result

    return handler


def json_response(value: Any) -> Response[bytes]:
    return Response(content=encode_json(value), media_type=JSON)


async def _get_action_list(ctx: MessageContext) -> JsonBytes:
    # The action layer keeps the encoded list, filtered per caller: for a caller that sees
    # every action, answering costs about as much as static bytes (sent as a raw ASGI answer).
    return JsonBytes(await ctx.runtime.actions.action_list_json_for(ctx.caller))


IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_PARAM = "idempotency_key"
REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_LENGTH = 255


def _text(value: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RequestError("must be a string", field=field)
    return value


def _idempotency_key(ctx: MessageContext, request: ExecuteRequest) -> tuple[str | None,
                                                                             ExecuteRequest]:
    """The request's idempotency key: the ``Idempotency-Key`` header, else ``idempotency_key``
    in the message's params or in the action's own params (taken out of them before they are
    validated). Two different keys in one request are refused."""
    keys = {key for key in (
        _text(ctx.request.headers.get(IDEMPOTENCY_HEADER), IDEMPOTENCY_PARAM),
        _text(ctx.message.params.get(IDEMPOTENCY_PARAM), IDEMPOTENCY_PARAM),
        _text(request.params.get(IDEMPOTENCY_PARAM), IDEMPOTENCY_PARAM),
    ) if key is not None}
    if IDEMPOTENCY_PARAM in request.params:
        params = {k: v for k, v in request.params.items() if k != IDEMPOTENCY_PARAM}
        request = dataclasses.replace(request, params=params)
    if len(keys) > 1:
        raise RequestError("the request carries two different idempotency keys",
                           field=IDEMPOTENCY_PARAM)
    return next(iter(keys), None), request


async def _execute_action(ctx: MessageContext) -> Response[bytes]:
    request = parse_execute(ctx.message.params)
    key, request = _idempotency_key(ctx, request)
    request_id = (ctx.request.headers.get(REQUEST_ID_HEADER) or "")[:_REQUEST_ID_LENGTH]
    answer = await ctx.runtime.actions.execute(
        request, caller=ctx.caller, raw_request=ctx.request, request_id=request_id or None,
        idempotency_key=key)
    return json_response(answer)


async def _get_field_options(ctx: MessageContext) -> Response[bytes]:
    request = parse_field_options(ctx.message.params)
    return json_response(await ctx.runtime.actions.field_options(request, caller=ctx.caller))


def may_reload(caller: Caller) -> bool:
    """Whether ``caller`` may send ``reload_schema``: a machine (a shared key, or every caller of
    an ``insecure`` server) or a project owner. A reload changes what every user sees, so it
    is not for every Jet Admin user."""
    return caller.kind in ("key", "insecure") or caller.owner


async def _reload_schema(ctx: MessageContext) -> dict[str, Any]:
    """Reflect again if the database's schema changed, and serve the new runtime.

    Requests already running finish on the runtime they started with. Answers
    ``{"reloaded": bool, "collections": n}``.

    Raises:
        PermissionDenied: the caller is neither a shared key nor an owner.
    """
    if not may_reload(ctx.caller):
        raise PermissionDenied("only a shared key or a project owner may reload the schema")
    state = running_state(ctx.request)
    new = await state.runtime.reload()
    reloaded = new is not state.runtime
    if reloaded:  # both in one step: no request sees the new runtime with old descriptions
        state.runtime = new
        state.model_descriptions = None
    return {"reloaded": reloaded, "collections": len(new.schema.collections)}


BUILTIN_HANDLERS: Mapping[str, MessageHandler] = {
    names.GET_ACTION_LIST: _get_action_list,
    names.EXECUTE_ACTION: _execute_action,
    names.GET_FIELD_OPTIONS: _get_field_options,
    RELOAD_SCHEMA: _reload_schema,
}


async def answer(ctx: MessageContext, handlers: Mapping[str, MessageHandler]) -> Response[bytes]:
    """Answer a message with its handler; an unknown name gets 200 with an empty JSON body."""
    handler = handlers.get(ctx.message.name)
    if handler is None:
        return Response(content=b"", media_type=JSON)
    result = await handler(ctx)
    if isinstance(result, Response):
        return result
    return json_response(result)
