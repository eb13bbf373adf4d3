"""Reading a request's headers and body from the ASGI scope and ``receive``.

Litestar's ``request.headers`` builds a case-insensitive multi-dict of every header, and
``request.body()`` streams through an async generator that builds it too (for
``Content-Length``): together more work than answering a cached ``get_action_list``. These read
the two or three headers flexorm needs and the body in one pass each, with Litestar's answers
(413 past the size limit, the first of repeated headers), using nothing but the ASGI interface.
:func:`replaying` hands the body back to a ``Request`` built over the same scope, so an action's
``raw_request`` can still read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from litestar.exceptions import ClientException, InternalServerException
from litestar.status_codes import HTTP_413_REQUEST_ENTITY_TOO_LARGE
from litestar.types import HTTPReceiveMessage, Receive

__all__ = ["RequestEntityTooLarge", "read_body", "replaying", "request_headers"]


class RequestEntityTooLarge(ClientException):
    """A body larger than the route accepts (413)."""

    status_code = HTTP_413_REQUEST_ENTITY_TOO_LARGE
    detail = "Request Entity Too Large"


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


async def read_body(receive: Receive, max_size: int, content_length: str | None) -> bytes:
    """The request's body, at most ``max_size`` bytes, read from ``receive`` (once).

    Args:
        receive: the request's ASGI ``receive``.
        max_size: the largest body accepted, in bytes.
        content_length: the ``Content-Length`` header, if any.

    Raises:
        RequestEntityTooLarge: announced or sent larger than ``max_size`` (413).
        ClientException: a ``Content-Length`` that is not a number (400).
        InternalServerException: the client disconnected before the end of the body.
    """
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
        event = cast("HTTPReceiveMessage", await receive())
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
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def replaying(body: bytes, then: Receive | None = None) -> Receive:
    """An ASGI ``receive`` that sends ``body`` once, then a disconnect: for a ``Request`` built
    over a scope whose body :func:`read_body` already read.

    Args:
        body: the body read.
        then: what to receive after the body instead (the connection's own ``receive``, for an
            app that waits for the client to go away).
    """
    sent = False

    async def receive() -> Any:
        nonlocal sent
        if sent:
            return await then() if then is not None else {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
