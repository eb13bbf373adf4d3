"""CORS headers on every answer (protocol section 1): Jet Admin calls from the browser."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence

from litestar.status_codes import HTTP_204_NO_CONTENT
from litestar.types import Message, Scope, Send

from flexorm.protocol.headers import ALLOW_HEADERS, ALLOW_METHODS, EXPOSE_HEADERS

__all__ = ["answer_preflight", "cors_headers", "cors_hook"]

def cors_headers(allow_origin: str) -> list[tuple[bytes, bytes]]:
    """The CORS response headers, as raw ASGI header pairs."""
    return [
        (b"access-control-allow-origin", allow_origin.encode("latin-1")),
        (b"access-control-allow-methods", ALLOW_METHODS.encode("latin-1")),
        (b"access-control-allow-headers", ALLOW_HEADERS.encode("latin-1")),
        (b"access-control-expose-headers", EXPOSE_HEADERS.encode("latin-1")),
        (b"access-control-allow-credentials", b"true"),
    ]


@functools.lru_cache(maxsize=8)
def _encoded(allow_origin: str) -> tuple[tuple[bytes, bytes], ...]:
    """:func:`cors_headers`, built once per origin rather than once per answer."""
    return tuple(cors_headers(allow_origin))


def cors_hook(
    allow_origin: Callable[[Scope], str], paths: Sequence[str] | None = None
) -> Callable[[Message, Scope], Awaitable[None]]:
    """A ``before_send`` hook adding the CORS headers to each response.

    A ``before_send`` hook sees every response, the router's own 404 and 405 included.

    Args:
        allow_origin: returns the ``Access-Control-Allow-Origin`` value for a request's scope
            (read per response, so it follows the settings the app started with).
        paths: answer only under these path prefixes (flexorm inside a user's app, which keeps
            its own CORS policy); ``None`` answers everywhere (the standalone ``flex.app``).
            Responses that already carry CORS headers are left alone.
    """
    prefixes = None if paths is None else tuple(p.rstrip("/") for p in paths)

    async def add_cors_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        if prefixes is not None:
            path = scope["path"].rstrip("/")
            if not any(path == p or path.startswith(p + "/") for p in prefixes):
                return
        headers = message.get("headers") or ()
        for name, _ in headers:
            if name.lower() == b"access-control-allow-origin":
                return
        message["headers"] = [*headers, *_encoded(allow_origin(scope))]

    return add_cors_headers


async def answer_preflight(send: Send, allow: str) -> None:
    """Answer an ``OPTIONS`` request (a browser's preflight) for a mounted ASGI app, as Litestar
    answers one on its own routes: ``204`` with ``Allow``, whoever asks (a browser sends no
    credentials with a preflight). The CORS headers are the hook's, as on every answer.

    Args:
        send: the request's ASGI ``send``.
        allow: the methods the mounted app answers (``Allow``).
    """
    await send({"type": "http.response.start", "status": HTTP_204_NO_CONTENT,
                "headers": [(b"allow", allow.encode("latin-1"))]})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
