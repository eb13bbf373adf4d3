"""Answering the messages of ``POST /api/messages/``, by name (protocol section 2)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import anyio.to_thread
from litestar import Request, Response

from flexorm.actions.policies import may_reload_schema
from flexorm.auth.caller import Caller
from flexorm.exceptions import PermissionDenied
from flexorm.protocol import names
from flexorm.protocol.encoding import encode_json
from flexorm.protocol.execute import parse_execute
from flexorm.protocol.field_options import parse_field_options
from flexorm.protocol.headers import (
    IDEMPOTENCY_HEADER,
    REQUEST_ID_HEADER,
    idempotency_key,
    request_id,
)
from flexorm.protocol.requests import Message
from flexorm.runtime import Runtime
from flexorm.server.guards import running_state
from flexorm.server.incoming import replaying, request_headers
from flexorm.server.raw import JSON, RawJson, json_answer

__all__ = [
    "BUILTIN_HANDLERS",
    "Encoded",
    "MessageContext",
    "MessageHandler",
    "answer",
    "as_message_handler",
]

_KEY_HEADER = IDEMPOTENCY_HEADER.lower().encode()
_ID_HEADER = REQUEST_ID_HEADER.lower().encode()


@dataclass(frozen=True)
class MessageContext:
    """What a message handler gets."""

    message: Message
    runtime: Runtime
    caller: Caller
    received: Request[Any, Any, Any] = field(repr=False)
    """The request as the route got it; its body was read into ``body``."""
    body: bytes = field(repr=False)

    @functools.cached_property
    def request(self) -> Request[Any, Any, Any]:
        """The request, whose ``body()`` reads the body again (an action's ``raw_request``):
        built over the same scope when first asked for."""
        return Request(self.received.scope, replaying(self.body), self.received.send)


@dataclass(frozen=True, slots=True)
class Encoded:
    """An answer already encoded as JSON bytes."""

    body: bytes


MessageHandler = Callable[[MessageContext], Awaitable[Any]]
"""Answers one message: a :class:`Response`, :class:`Encoded` bytes, or a value encoded as the
JSON answer."""


def as_message_handler(function: Callable[[MessageContext], Any]) -> MessageHandler:
    """A user's handler, sync (run in a worker thread) or async, as a :data:`MessageHandler`."""
    if inspect.iscoroutinefunction(function):
        return cast("MessageHandler", function)

    async def handler(ctx: MessageContext) -> Any:
        result = await anyio.to_thread.run_sync(function, ctx)
        return await result if inspect.isawaitable(result) else result

    return handler


async def _get_action_list(ctx: MessageContext) -> Encoded:
    # The action layer keeps the encoded list, filtered per caller: for a caller that sees
    # every action, answering costs about as much as static bytes (sent as a raw ASGI answer).
    return Encoded(await ctx.runtime.actions.action_list_json_for(ctx.caller))


async def _execute_action(ctx: MessageContext) -> Any:
    request = parse_execute(ctx.message.params, refusal=ctx.message.refusal)
    key_header, id_header = request_headers(ctx.received.scope, _KEY_HEADER, _ID_HEADER)
    key, request = idempotency_key(key_header, ctx.message.params, request)
    return await ctx.runtime.actions.execute(
        request, caller=ctx.caller, raw_request=ctx.request, request_id=request_id(id_header),
        idempotency_key=key)


async def _get_field_options(ctx: MessageContext) -> Any:
    request = parse_field_options(ctx.message.params)
    return await ctx.runtime.actions.field_options(request, caller=ctx.caller)


async def _reload_schema(ctx: MessageContext) -> dict[str, Any]:
    """Reflect again if the database's schema changed, and serve the new runtime.

    Requests already running finish on the runtime they started with. Answers
    ``{"reloaded": bool, "collections": n}``.

    Raises:
        PermissionDenied: the caller is neither a shared key nor an owner.
    """
    if not may_reload_schema(ctx.caller):
        raise PermissionDenied("only a shared key or a project owner may reload the schema")
    state = running_state(ctx.received)
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
    names.RELOAD_SCHEMA: _reload_schema,
}


async def answer(ctx: MessageContext, handlers: Mapping[str, MessageHandler], *,
                 raw: bool) -> Response[bytes] | RawJson:
    """Answer a message with its handler; an unknown name gets 200 with an empty JSON body.

    Args:
        ctx: the message and who sent it.
        handlers: message name to handler.
        raw: JSON answers may be sent as :class:`~flexorm.server.raw.RawJson` (the app asks
            nothing more of responses).
    """
    handler = handlers.get(ctx.message.name)
    if handler is None:
        return Response(content=b"", media_type=JSON)
    if ctx.message.refusal is not None and ctx.message.name != names.EXECUTE_ACTION:
        raise ctx.message.refusal  # execute_action records the refused run first
    result = await handler(ctx)
    if isinstance(result, Response):
        return result
    if isinstance(result, Encoded):
        return json_answer(result.body, raw=raw)
    return json_answer(encode_json(result), raw=raw)
