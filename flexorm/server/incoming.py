"""Reading a request's headers and body straight from its ASGI scope.

Litestar's ``request.headers`` builds a case-insensitive multi-dict of every header, and
``request.body()`` streams through an async generator that builds it too (for
``Content-Length``): together more work than answering a cached ``get_action_list``. These read
the two or three headers flexorm needs and the body in one pass each, keep Litestar's
behaviour (413 past the size limit, the first of repeated headers) and leave the body where
``request.body()`` finds it, so an action's ``raw_request`` can still read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from litestar import Request
from litestar.exceptions import ClientException, InternalServerException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.types import HTTPReceiveMessage
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState

__all__ = ["read_body", "request_headers"]


def request_headers(scope: Any, *names: bytes) -> list[str | None]:
    """The first value of each named header (lowercase names), decoded as latin-1.

    Examples:
        >>> request_headers({"headers": [(b"Content-Type", b"text/plain")]},
        ...                 b"content-type", b"authorization")
        ['text/plain', None]
    """
    found: list[str | None] = [None] * len(names)
    raw: Sequence[tuple[bytes, bytes]] = scope["headers"]
    for name, value in raw:
        lowered = name.lower()
        for index, wanted in enumerate(names):
            if lowered == wanted and found[index] is None:
                found[index] = value.decode("latin-1")
    return found


async def read_body(request: Request[Any, Any, Any], max_size: int,
                    content_length: str | None) -> bytes:
    """The request's body, at most ``max_size`` bytes.

    Args:
        request: the request whose body is read (once: later ``request.body()`` calls get it).
        max_size: the largest body accepted, in bytes.
        content_length: the ``Content-Length`` header, if any.

    Raises:
        RequestEntityTooLarge: announced or sent larger than ``max_size`` (413).
        ClientException: a ``Content-Length`` that is not a number (400).
        InternalServerException: the client disconnected before the end of the body.
    """
    state = ScopeState.from_scope(request.scope)
    cached = value_or_default(state.body, None)
    if cached is not None:
        return cached
    if content_length is not None:
        try:
            announced = int(content_length)
        except ValueError:
            raise ClientException(f"Invalid content-length: {content_length!r}") from None
        if announced > max_size:
            raise RequestEntityTooLarge
    chunks: list[bytes] = []
    total = 0
    while True:
        event = cast("HTTPReceiveMessage", await request.receive())
        if event["type"] == "http.request":
            chunk = event["body"]
            if chunk:
                total += len(chunk)
                if total > max_size:
                    raise RequestEntityTooLarge
                chunks.append(chunk)
            if not event.get("more_body", False):
                break
        elif event["type"] == "http.disconnect":
            raise InternalServerException("client disconnected prematurely")
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    state.body = body
    request.is_connected = False
    return body
