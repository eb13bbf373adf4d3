"""Decoding a ``POST /api/messages/`` body into a :class:`~flexorm.protocol.requests.Message`,
and an action operation's body into its arguments.

Pure functions of bytes and a content type, so they know nothing of HTTP and are tested alone.
Whatever a client sends, they either return a ``Message`` (or the object) or raise
:class:`RequestError`; they never let a decoding error, a recursion error or a huge number
escape.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from flexorm.exceptions import RequestError
from flexorm.protocol.requests import Message
from flexorm.protocol.values import refusal, scrub, suspect

__all__ = ["MAX_DEPTH", "decode_object", "parse_message", "parse_object"]

MAX_DEPTH = 32
"""How deeply arrays and objects may nest in a body; real messages need about five levels."""

_FORM_TYPE = "application/x-www-form-urlencoded"
_MAX_FORM_FIELDS = 100


def parse_message(body: bytes, content_type: str | None = None) -> Message:
    """Decode a message body: JSON, or a form-encoded body.

    A body sent as a form whose text is a JSON object or array (``curl -d '{...}'`` without
    ``-H 'Content-Type: application/json'``) is read as JSON: no form field starts with ``{``.

    Args:
        body: the raw request body.
        content_type: the ``Content-Type`` header, parameters included, if any.

    A lone surrogate or a non-finite number anywhere in a JSON body does not raise: the
    message carries a :attr:`~Message.refusal` and scrubbed values, so that an
    ``execute_action`` refused for it can still be recorded in the journal.

    Raises:
        RequestError: malformed JSON (under ``non_field_errors``), a missing or non-string
            ``name``, or ``params`` that is not an object.

    Examples:
        >>> parse_message(b'{"name": "get_action_list"}')
        Message(name='get_action_list', params={})
        >>> parse_message(b'name=execute_action&params=%7B%22name%22%3A%22x%22%7D',
        ...               "application/x-www-form-urlencoded").params
        {'name': 'x'}
    """
    if _media_type(content_type) == _FORM_TYPE and body.lstrip()[:1] not in (b"{", b"["):
        data: Any = _parse_form(body)
    else:
        data = _loads(body)
    if not isinstance(data, dict) or data.get("name") in (None, ""):
        raise RequestError("this field is required", field="name")
    name = data["name"]
    if not isinstance(name, str):
        raise RequestError("must be a string", field="name")
    params = decode_object(data.get("params"), field="params")
    if not suspect(body):
        return Message(name=name, params=params)
    found = refusal({"name": name, "params": params})
    if found is None:
        return Message(name=name, params=params)
    path, why = found
    return Message(name=scrub(name), params=scrub(params),
                   refusal=RequestError(why, field=_field(path)))


def _field(path: tuple[str, ...]) -> str | None:
    """The field a refused value is reported under: the action parameter, or the key of the
    message's params (``ids``, ``id``, ``model``...)."""
    if path[:1] != ("params",):
        return path[0] if path else None
    inner = path[1:]
    if len(inner) >= 2 and inner[0] == "params":
        return inner[1]
    return inner[0] if inner else "params"


_JSON_WHITESPACE = b" \t\r\n"


def parse_object(body: bytes) -> dict[str, Any]:
    """Decode a body that is one JSON object (an action's arguments, over HTTP).

    An empty body, or one of whitespace only, is ``{}``: no parameters.

    Raises:
        RequestError: under ``non_field_errors``: malformed JSON (``Incorrect JSON body: ...``,
            as :func:`parse_message` says it), or JSON that is not an object.

    Examples:
        >>> parse_object(b'{"id": 3}'), parse_object(b" ")
        ({'id': 3}, {})
    """
    if not body.strip(_JSON_WHITESPACE):
        return {}
    data = _loads(body)
    if not isinstance(data, dict):
        raise RequestError("must be a JSON object")
    return data


def decode_object(value: Any, *, field: str) -> dict[str, Any]:
    """A params-like value as a dict: absent or ``null`` is ``{}``, a JSON string is decoded.

    Raises:
        RequestError: under ``field``, when the value is neither an object nor a JSON text of one.
    """
    if value is None:
        return {}
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            value = _loads(value.encode("utf-8"))
        except RequestError:
            raise RequestError("must be a JSON object", field=field) from None
    if not isinstance(value, dict):
        raise RequestError("must be a JSON object", field=field)
    return value


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _loads(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _incorrect(f"not UTF-8 at byte {exc.start}") from None
    try:
        data = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise _incorrect(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise _incorrect(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # an integer too long to convert
        raise _incorrect(str(exc).split(";", 1)[0]) from None
    if _may_need_check(body):
        _check(data)
    return data


def _may_need_check(body: bytes) -> bool:
    """Whether the decoded body could hold what :func:`_check` refuses.

    A NUL character can only arrive escaped (the decoder refuses raw control characters in
    strings), and nesting deeper than :data:`MAX_DEPTH` needs more than that many ``[``/``{``:
    a body without either (every real message) skips the walk over its values.
    """
    return b"\\u0000" in body or body.count(b"[") + body.count(b"{") > MAX_DEPTH


_DECODER = json.JSONDecoder()
"""Built once: ``json.loads`` with an option builds a decoder per call. ``NaN`` and
``Infinity`` decode to floats, refused afterwards with the field they were sent in."""
"""Built once: ``json.loads`` with an option builds a decoder per call."""


def _incorrect(detail: str) -> RequestError:
    return RequestError(f"Incorrect JSON body: {detail}")


def _check(data: Any) -> None:
    """Refuse values no database column takes: deep nesting and NUL characters."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise RequestError("NUL characters are not allowed")
        elif isinstance(value, dict | list):  # what JSON decodes to (no ABC check per value)
            if depth > MAX_DEPTH:
                raise _incorrect(f"nested deeper than {MAX_DEPTH} levels")
            if isinstance(value, dict):
                stack.extend((key, depth) for key in value)
                stack.extend((item, depth + 1) for item in value.values())
            else:
                stack.extend((item, depth + 1) for item in value)


def _parse_form(body: bytes) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False,
                          max_num_fields=_MAX_FORM_FIELDS, errors="strict")
    except UnicodeDecodeError:
        raise RequestError("the form body is not UTF-8") from None
    except ValueError:
        raise RequestError(f"the form has more than {_MAX_FORM_FIELDS} fields") from None
    data: dict[str, Any] = {}
    for key, value in pairs:
        if "\x00" in key or "\x00" in value:
            raise RequestError("NUL characters are not allowed")
        data.setdefault(key, value)
    return data
