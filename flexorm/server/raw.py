"""A pre-encoded JSON answer that skips the work of a generic ``Response``.

A cached answer (``get_action_list``) is a few hundred bytes known in advance, yet Litestar's
``Response`` turns into an ``ASGIResponse`` by normalising, checking and re-encoding its headers
one by one: more work than the rest of the request. :class:`JsonBytes` is a ``Response`` (hooks,
exception handlers and ``before_send`` CORS treat it as any other) whose ASGI form is built
directly from the bytes when nothing else (headers, cookies, a background task) was asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from litestar import Response
from litestar.datastructures import MutableScopeHeaders
from litestar.response.base import ASGIResponse
from litestar.status_codes import HTTP_200_OK

if TYPE_CHECKING:
    from litestar import Litestar, Request
    from litestar.background_tasks import BackgroundTask, BackgroundTasks
    from litestar.datastructures import Cookie
    from litestar.enums import MediaType
    from litestar.types import Receive, Scope, Send, TypeEncodersMap
    from litestar.types.asgi_types import HeaderScope

__all__ = ["JSON", "JsonBytes"]

JSON = "application/json"


class JsonBytes(Response[bytes]):
    """``application/json`` with an already encoded body.

    Args:
        body: the encoded JSON answer.

    Examples:
        >>> JsonBytes(b'{"ok": true}').content
        b'{"ok": true}'
    """

    __slots__ = ()

    def __init__(self, body: bytes) -> None:  # no super().__init__: its checks cost more
        self.content = body
        self.background = None
        self.cookies = []
        self.encoding = "utf-8"
        self.headers = {}
        self.media_type = JSON
        self.status_code = HTTP_200_OK
        self.response_type_encoders = {}

    def to_asgi_response(
        self,
        app: Litestar | None,
        request: Request[Any, Any, Any],
        *,
        background: BackgroundTask | BackgroundTasks | None = None,
        cookies: Any = None,
        encoded_headers: Any = None,
        headers: dict[str, str] | None = None,
        is_head_response: bool = False,
        media_type: MediaType | str | None = None,
        status_code: int | None = None,
        type_encoders: TypeEncodersMap | None = None,
    ) -> ASGIResponse:
        plain = not (self.headers or self.cookies or self.background or background or cookies
                     or encoded_headers or headers or is_head_response
                     or self.media_type != JSON or self.status_code != HTTP_200_OK)
        if plain:
            return _Encoded(self.content)
        extra_cookies = cast("list[Cookie] | None", cookies)
        return super().to_asgi_response(
            app, request, background=background, cookies=extra_cookies,
            encoded_headers=encoded_headers, headers=headers, is_head_response=is_head_response,
            media_type=media_type, status_code=status_code, type_encoders=type_encoders)


class _Encoded(ASGIResponse):
    """An ``ASGIResponse`` of ``200 application/json`` whose two headers are encoded at once.

    Its ``headers`` are built only if something asks for them (an ``after_request`` hook);
    otherwise the start message gets a new list of the two encoded headers (a ``before_send``
    hook may change that list in place).
    """

    __slots__ = ("_built",)

    def __init__(self, body: bytes) -> None:  # no super().__init__: it re-parses the headers
        self._built: MutableScopeHeaders | None = None
        self.body = body
        self.content_length = len(body)
        self.status_code = HTTP_200_OK
        self.background = None
        self.encoding = "utf-8"
        self.is_head_response = False
        self._encoded_cookies = ()

    def _raw_headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"content-type", _JSON_BYTES), (b"content-length", b"%d" % self.content_length)]

    @property  # over the parent's slot: built on demand
    def headers(self) -> MutableScopeHeaders:
        if self._built is None:
            scope = {"headers": self._raw_headers()}
            self._built = MutableScopeHeaders(cast("HeaderScope", scope))
        return self._built

    @headers.setter
    def headers(self, value: MutableScopeHeaders) -> None:
        self._built = value

    def encode_headers(self) -> list[tuple[bytes, bytes]]:
        if self._built is None:
            return self._raw_headers()
        return super().encode_headers()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.encode_headers()})
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


_JSON_BYTES = JSON.encode()
