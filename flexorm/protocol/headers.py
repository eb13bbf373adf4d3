"""The headers of the wire: what flexorm reads from a request and what it adds to every answer.

- ``Idempotency-Key`` (or ``idempotency_key`` in the message's params, or in the action's own
  params): one run per key (:func:`idempotency_key`);
- ``X-Request-ID``: kept in the journal, at most 255 characters (:func:`request_id`);
- CORS (protocol section 1): Jet Admin calls from the browser, so every answer carries these;
  an MCP client in a browser too.

The two read from a request are read as the text the client sent (:func:`header_text`): their
limits count the characters the journal keeps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from flexorm.exceptions import RequestError
from flexorm.protocol.requests import ExecuteRequest

__all__ = [
    "ALLOW_HEADERS",
    "ALLOW_METHODS",
    "EXPOSE_HEADERS",
    "IDEMPOTENCY_HEADER",
    "IDEMPOTENCY_KEY_LENGTH",
    "IDEMPOTENCY_PARAM",
    "REQUEST_ID_HEADER",
    "REQUEST_ID_LENGTH",
    "header_text",
    "idempotency_key",
    "request_id",
]

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_PARAM = "idempotency_key"
REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_LENGTH = 255
IDEMPOTENCY_KEY_LENGTH = 255
"""The most characters of an idempotency key (what the journal keeps)."""
"""The longest request id kept; longer ones are cut."""

ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
# The reference bridge's list (a browser refuses to send a header a preflight did not allow),
# plus the headers flexorm reads that a browser client may set itself, and those an MCP client
# sends over Streamable HTTP (the protocol version, the session, the resumption point, and the
# method and name a 2026 client repeats as headers).
ALLOW_HEADERS = (
    "Authorization, DNT, User-Agent, X-Requested-With, If-Modified-Since, Cache-Control, "
    "Content-Type, Range, X-Application-Warning, X-HTTP-Method-Override, X-Bridge-Settings, "
    "X-Stick-Session, Idempotency-Key, X-Request-ID, If-None-Match, Mcp-Protocol-Version, "
    "Mcp-Session-Id, Last-Event-ID, Mcp-Method, Mcp-Name"
)
# what a browser client may read of an answer: an MCP client keeps the session id it is given
EXPOSE_HEADERS = (
    "Content-Length, Content-Range, Content-Disposition, Content-Type, X-Application-Warning, "
    "Mcp-Session-Id"
)


def header_text(value: str | None) -> str | None:
    """A header's value as the text the client sent.

    A server hands headers over as bytes read as latin-1 (ASGI), but a client sends any text
    beyond ASCII as UTF-8 (a browser, as latin-1: ``é`` is the byte ``E9``). A value whose
    bytes are UTF-8 is read as UTF-8; any other stays as read.

    Examples:
        >>> header_text("cl\u00c3\u00a9")  # the UTF-8 bytes of "clé", read as latin-1
        'clé'
        >>> header_text("cl\u00e9"), header_text("abc"), header_text(None)
        ('clé', 'abc', None)
    """
    if value is None or value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:  # not latin-1 (a string of another origin), or not UTF-8
        return value


def _text(value: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RequestError("must be a string", field=field)
    return value


def idempotency_key(header: str | None, message_params: Mapping[str, Any],
                    request: ExecuteRequest) -> tuple[str | None, ExecuteRequest]:
    """The request's idempotency key, and the request without it.

    The key is the ``Idempotency-Key`` header (read by :func:`header_text`), else
    ``idempotency_key`` in the message's params or in the action's own params (taken out of them
    before they are validated). The service refuses a key longer than the journal keeps.

    Raises:
        RequestError: two different keys in one request, or a key that is not a string.

    Examples:
        >>> idempotency_key("k1", {}, ExecuteRequest(action="ship"))[0]
        'k1'
    """
    keys = {key for key in (
        _text(header_text(header), IDEMPOTENCY_PARAM),
        _text(message_params.get(IDEMPOTENCY_PARAM), IDEMPOTENCY_PARAM),
        _text(request.params.get(IDEMPOTENCY_PARAM), IDEMPOTENCY_PARAM),
    ) if key is not None}
    if IDEMPOTENCY_PARAM in request.params:
        params = {k: v for k, v in request.params.items() if k != IDEMPOTENCY_PARAM}
        request = dataclasses.replace(request, params=params)
    if len(keys) > 1:
        raise RequestError("the request carries two different idempotency keys",
                           field=IDEMPOTENCY_PARAM)
    return next(iter(keys), None), request


def request_id(header: str | None) -> str | None:
    """The ``X-Request-ID`` kept for the journal (read by :func:`header_text`): cut to
    :data:`REQUEST_ID_LENGTH` characters; ``None`` when absent or empty.

    Examples:
        >>> request_id("abc"), request_id("")
        ('abc', None)
    """
    return (header_text(header) or "")[:REQUEST_ID_LENGTH] or None
