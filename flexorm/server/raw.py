"""Pre-encoded JSON answers sent as they are.

A cached answer (``get_action_list``) is a few hundred bytes known in advance, yet a generic
``Response`` turns into an ASGI answer by normalising, checking and encoding its headers one by
one: more work than the rest of the request. :class:`RawJson` is a plain ASGI application (a
route handler annotated as returning ``ASGIApp`` may return one: public Litestar API) that sends
the two headers and the bytes. :func:`json_answer` uses it only when the app asks nothing more of
responses (no ``after_request`` hook, app-wide headers or cookies); otherwise the answer is an
ordinary ``Response``, so whatever the app adds still applies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import Response

if TYPE_CHECKING:
    from litestar.types import Receive, Scope, Send

__all__ = ["JSON", "RawJson", "json_answer"]

JSON = "application/json"
_JSON_BYTES = JSON.encode()


class RawJson:
    """An ASGI app answering ``200 application/json`` with an already encoded body.

    Args:
        body: the encoded JSON answer.

    Examples:
        >>> RawJson(b'{"ok": true}').body
        b'{"ok": true}'
    """

    __slots__ = ("body",)

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # a new header list each time: a before_send hook (CORS) may extend it in place
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", _JSON_BYTES),
                                (b"content-length", b"%d" % len(self.body))]})
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


def json_answer(body: bytes, *, raw: bool) -> Response[bytes] | RawJson:
    """Encoded JSON as an answer: a :class:`RawJson` when ``raw``, else a ``Response``."""
    return RawJson(body) if raw else Response(content=body, media_type=JSON)
