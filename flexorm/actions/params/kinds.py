"""Annotations for values sent in a form of their own.

- Bytes are base64 text (the standard alphabet), as answers send them.
- A datetime (or time) with an offset, for a column that stores none, is converted to UTC and
  made naive: dropping the offset would store another instant.
- MySQL's ``TIME`` is a duration, beyond a day's hours and below zero, written as answers write
  it (``[-]HH:MM:SS[.ffffff]``).
- An array is nested lists, rectangular, on as many levels as the column has.
- A PostgreSQL ``inet`` or ``cidr`` is its text, checked as the database reads it, so that a
  malformed address is refused on its field rather than by the database for the request as a
  whole.
- A PostgreSQL range is its text (``[1,5)``), or the object answers write for it
  (``{"lower": 1, "upper": 5, "bounds": "[)"}``), so that a value read can be sent back; the
  body receives the text, which the database reads.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Any

import pydantic
from pydantic import AfterValidator, BeforeValidator, PlainValidator, WithJsonSchema

from flexorm.actions.params import annotated
from flexorm.protocol.durations import Duration

__all__ = ["BYTES_SCHEMA", "DURATION_SCHEMA", "MULTIRANGE_SCHEMA", "RANGE_SCHEMA",
           "array_annotation", "bytes_annotation", "duration_annotation", "naive_utc",
           "network_annotation", "parse_duration", "range_annotation", "utc_representable"]


BYTES_SCHEMA = {"type": "string", "format": "byte", "contentEncoding": "base64"}
"""How a bytes parameter is described to MCP and HTTP clients (JSON Schema, OpenAPI)."""

_BLANKS = re.compile(r"\s+")


def _from_base64(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if not isinstance(value, str):
        raise ValueError("Enter the bytes as base64 text.")
    try:
        return base64.b64decode(_BLANKS.sub("", value).encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("Enter valid base64 text (A-Z, a-z, 0-9, + and /, padded with =)."
                         ) from None


def bytes_annotation(*metadata: Any) -> Any:
    """Bytes, sent as base64 text (line breaks and blanks in it are ignored); ``metadata``
    constrains the decoded bytes (``Field(max_length=10)``: at most 10 bytes)."""
    return Annotated[bytes, *metadata, BeforeValidator(_from_base64),
                     WithJsonSchema(BYTES_SCHEMA)]


_ABBREVIATED_CIDR = re.compile(r"\d{1,3}(\.\d{1,3}){0,2}(/\d{1,2})?")
"""PostgreSQL's shorthand of an IPv4 network, fewer than four numbers (``10.1`` is
``10.1.0.0/16``), which Python does not read: left to the database."""


def _address(value: Any) -> str:
    """An ``inet`` value: an address, with or without the size of its network."""
    if not isinstance(value, str):
        raise ValueError("Enter an IP address as text, such as 192.0.2.1 or 2001:db8::1/64.")
    try:
        if "%" in value:  # an IPv6 scope, which PostgreSQL does not keep
            raise ValueError
        ipaddress.ip_interface(value)
    except ValueError:
        raise ValueError(f"{value[:100]!r} is not an IP address, such as 192.0.2.1 or "
                         "2001:db8::1/64.") from None
    return value


def _network(value: Any) -> str:
    """A ``cidr`` value: a network, no bit of its address set beyond its mask."""
    if not isinstance(value, str):
        raise ValueError("Enter a network as text, such as 192.0.2.0/24 or 2001:db8::/32.")
    if _ABBREVIATED_CIDR.fullmatch(value):
        return value
    try:
        if "%" in value:
            raise ValueError
        network = ipaddress.ip_network(value, strict=False)
        address = ipaddress.ip_interface(value).ip
    except ValueError:
        raise ValueError(f"{value[:100]!r} is not a network, such as 192.0.2.0/24 or "
                         "2001:db8::/32.") from None
    if network.network_address != address:
        raise ValueError(f"{value[:100]!r} has bits set beyond its mask: the network is "
                         f"{network}.")
    return value


def network_annotation(*, cidr: bool = False) -> Any:
    """A PostgreSQL ``inet`` (``cidr``: ``cidr``) column's value, as text the database reads;
    the body receives it as sent."""
    return Annotated[str, PlainValidator(_network if cidr else _address),
                     WithJsonSchema({"type": "string"})]


def _in_utc(value: dt.datetime) -> dt.datetime:
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("The date is out of range once converted to UTC "
                         "(years 1 to 9999).") from None


def _utc_representable(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.utcoffset() is not None:
        _in_utc(value)
    return value


utc_representable = AfterValidator(_utc_representable)
"""A datetime sent with an offset, for a column that keeps it: refused when its instant falls
outside the years 1 to 9999 in UTC. The database would store it (PostgreSQL's range is wider)
and no Python program could read the row back."""


def _as_naive_utc(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.utcoffset() is not None:
        return _in_utc(value).replace(tzinfo=None)
    if isinstance(value, dt.time) and value.utcoffset() is not None:
        moment = dt.datetime.combine(dt.date(2000, 1, 3), value).astimezone(dt.UTC)
        return moment.time()
    return value


naive_utc = AfterValidator(_as_naive_utc)
"""A datetime (or time) sent with an offset, converted to UTC and made naive: for a column that
stores no offset, where the offset would otherwise be dropped (another instant). One sent
without an offset is kept as it is."""

_DURATION = re.compile(r"(-)?(\d{1,3}):([0-5]\d)(?::([0-5]\d)(?:\.(\d{1,6}))?)?", re.ASCII)
DURATION_SCHEMA = {"type": "string",
                   "pattern": r"^-?[0-9]{1,3}:[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"}
"""How a MySQL ``TIME`` value is described to MCP and HTTP clients: the text it is sent as
(the range, -838:59:59 to 838:59:59, is checked on its own)."""
_MAX_DURATION = dt.timedelta(hours=838, minutes=59, seconds=59)
"""MySQL's ``TIME`` range: -838:59:59 to 838:59:59."""


def parse_duration(value: Any) -> Duration:
    """A MySQL ``TIME`` value: a ``timedelta``, a time of day, or ``[-]hours:minutes[:seconds
    [.fraction]]`` text (as answers write it), from -838:59:59 to 838:59:59.

    Raises:
        ValueError: anything else, with a message for the user.

    Examples:
        >>> str(parse_duration("-01:30")), str(parse_duration("100:00:00.5"))
        ('-01:30:00', '100:00:00.500000')
    """
    if isinstance(value, dt.timedelta):
        found = value
    elif isinstance(value, dt.time) and value.utcoffset() is None:
        found = dt.timedelta(hours=value.hour, minutes=value.minute, seconds=value.second,
                             microseconds=value.microsecond)
    else:
        match = _DURATION.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            raise ValueError("Enter a time as hours:minutes[:seconds], such as 10:30, "
                             "100:00:00 or -01:30:00.")
        sign, hours, minutes, seconds, fraction = match.groups()
        found = dt.timedelta(hours=int(hours), minutes=int(minutes), seconds=int(seconds or 0),
                             microseconds=int((fraction or "").ljust(6, "0")))
        found = -found if sign else found
    if abs(found) > _MAX_DURATION:
        raise ValueError("Enter a time between -838:59:59 and 838:59:59.")
    return Duration.of(found)


def duration_annotation() -> Any:
    """A MySQL ``TIME``: a duration from -838:59:59 to 838:59:59 (a time of day is one too),
    as ``[-]hours:minutes[:seconds[.fraction]]``; the body receives a ``timedelta`` (a
    :class:`~flexorm.protocol.durations.Duration`, answered in that same text)."""
    return Annotated[dt.timedelta, PlainValidator(parse_duration),
                     WithJsonSchema(DURATION_SCHEMA)]


def _array_schema(items: pydantic.TypeAdapter[Any], dimensions: int | None) -> dict[str, Any]:
    """Lists in lists, ``dimensions`` levels deep, of items as pydantic describes ``items``
    (no levels nor items described when the array takes any number of levels)."""
    if dimensions is None:
        return {"type": "array"}
    try:
        schema: dict[str, Any] = items.json_schema(mode="validation")
    except pydantic.PydanticUserError:  # an item pydantic cannot describe: items of any kind
        schema = {}
    for _ in range(dimensions):
        schema = {"type": "array", "items": schema} if schema else {"type": "array"}
    return schema


def array_annotation(item: Any, dimensions: int | None) -> Any:
    """An array of ``dimensions`` levels (any number, all alike, when ``None``): nested lists
    of equal lengths on each level (or their JSON text), every item validated as ``item``."""
    items = pydantic.TypeAdapter(item)

    def leaf(value: Any, where: str) -> Any:
        try:
            return items.validate_python(value)
        except pydantic.ValidationError as exc:
            message = str(exc.errors(include_url=False)[0]["msg"])
            raise ValueError(f"Item {where}: {message.removeprefix('Value error, ')}") from None

    def check(value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise ValueError("Input should be a valid list.")
        if not value:
            return []
        depth = _depth(value)
        if dimensions is not None and depth != dimensions:
            raise ValueError("Enter a list of values, not of lists." if dimensions == 1 else
                             f"Enter a list of {dimensions} levels (lists in lists).")
        return _walk(value, depth, leaf, "")

    return Annotated[list[Any], PlainValidator(check), BeforeValidator(annotated.json_from_text),
                     AfterValidator(annotated.json_check),
                     WithJsonSchema(_array_schema(items, dimensions))]


def _depth(value: Any) -> int:
    """How many levels of lists ``value`` has, read down its first items."""
    depth = 0
    while isinstance(value, list):
        depth += 1
        if not value:
            break
        value = value[0]
    return depth


def _walk(value: list[Any], depth: int, leaf: Callable[[Any, str], Any],
          where: str) -> list[Any]:
    if depth <= 1:
        if any(isinstance(item, list) for item in value):
            raise ValueError(f"Items{' of ' + where if where else ''} must all be lists or "
                             "all be values, not both.")
        return [leaf(item, f"{where}[{index}]") for index, item in enumerate(value)]
    length: int | None = None
    walked = []
    for index, item in enumerate(value):
        here = f"{where}[{index}]"
        if not isinstance(item, list) or (length is not None and len(item) != length):
            raise ValueError("The lists on each level must have the same length (the array "
                             f"is rectangular): {here} differs.")
        length = len(item)
        walked.append(_walk(item, depth - 1, leaf, here))
    return walked


_BOUNDS = ("[)", "(]", "[]", "()")
_RANGE_KEYS = frozenset({"lower", "upper", "bounds", "empty"})

RANGE_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "description": "the range's text, such as [1,5) or empty"},
        {"type": "object", "properties": {
            "lower": {"description": "the lower bound; none for no bound"},
            "upper": {"description": "the upper bound; none for no bound"},
            "bounds": {"type": "string", "enum": list(_BOUNDS)},
            "empty": {"type": "boolean"}},
         "additionalProperties": False},
    ],
}
"""A range as a client sends it: its text, or the object answers write."""


def _range_bound(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("A range's bounds are numbers, text, or null for no bound.")
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_BOUND_TEXT = r'\s*(?:"(?:[^"\\]|\\.)*"|(?:[^,"\\()\[\]\s]|\\.)(?:[^,"\\()\[\]]|\\.)*?)?\s*'
_ONE_RANGE = rf"\s*(?:empty|[\[(]{_BOUND_TEXT},{_BOUND_TEXT}[\])])\s*"
_RANGE_TEXT = re.compile(_ONE_RANGE, re.IGNORECASE)
"""A range's text as PostgreSQL reads its shape (``[1,5)``, ``(,)``, ``empty``, blanks about;
a bound quoted or its special characters escaped); the bounds' values are left to it."""
_RANGE_HINT = ('Enter a range as its text, such as "[1,5)", or as an object with lower, upper '
               "and bounds.")


def _range_text(value: Any) -> str:
    """A range sent as its text (as it is, once its shape is checked: the database reads it) or
    as an object, as text."""
    if isinstance(value, str):
        if not _RANGE_TEXT.fullmatch(value):
            raise ValueError(f"{value[:100]!r} is not a range. {_RANGE_HINT}")
        return value
    if not isinstance(value, dict) or not set(value) <= _RANGE_KEYS:
        raise ValueError(_RANGE_HINT)
    if value.get("empty") is True:
        return "empty"
    bounds = value.get("bounds", "[)")
    if bounds not in _BOUNDS:
        raise ValueError(f"A range's bounds are one of {', '.join(_BOUNDS)}.")
    lower, upper = _range_bound(value.get("lower")), _range_bound(value.get("upper"))
    return f"{bounds[0]}{lower},{upper}{bounds[1]}"


_MULTIRANGE_TEXT = re.compile(rf"\s*\{{(?:{_ONE_RANGE}(?:,{_ONE_RANGE})*|\s*)\}}\s*",
                              re.IGNORECASE)
"""A multirange's text: its ranges' in braces, separated by commas (``{}`` holds none)."""


def _multirange_text(value: Any) -> str:
    """A multirange sent as its text (its shape checked), or as the list of ranges answers
    write, as text."""
    if isinstance(value, str):
        if not _MULTIRANGE_TEXT.fullmatch(value):
            raise ValueError(f"{value[:100]!r} is not a multirange. Enter it as its text, such "
                             'as "{[1,3),[5,7)}", or as a list of ranges.')
        return value
    if not isinstance(value, list):
        raise ValueError('Enter a multirange as its text, such as "{[1,3),[5,7)}", or as a '
                         "list of ranges.")
    return "{" + ",".join(_range_text(item) for item in value) + "}"


MULTIRANGE_SCHEMA: dict[str, Any] = {
    "anyOf": [{"type": "string", "description": "the multirange's text, such as {[1,3),[5,7)}"},
              {"type": "array", "items": RANGE_SCHEMA["anyOf"][1]}],
}


def range_annotation(*, multi: bool = False) -> Any:
    """A PostgreSQL range (``multi``: multirange) column's value: its text, or what an answer
    holds for it; the body receives the text."""
    if multi:
        return Annotated[str, PlainValidator(_multirange_text),
                         WithJsonSchema(MULTIRANGE_SCHEMA)]
    return Annotated[str, PlainValidator(_range_text), WithJsonSchema(RANGE_SCHEMA)]
