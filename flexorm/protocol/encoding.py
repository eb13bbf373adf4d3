"""JSON for answers: what action bodies return, encoded exactly and without surprises.

One encoder for every answer and one rule for rows. :func:`encode` turns a value into its JSON
form: Decimals become strings (as the reference bridge answers: no precision is lost in
JavaScript), dates and times ISO 8601 strings, a MySQL ``TIME`` (a
:class:`~flexorm.protocol.durations.Duration`) its ``[-]HH:MM:SS[.ffffff]`` text, any other
``timedelta`` (a PostgreSQL ``interval``) its seconds, UUIDs and network addresses (PostgreSQL's
``inet`` and ``cidr``) strings, enums their value, bytes base64,
rows (mapped instances and result rows) dicts of column values keyed by column name
(:func:`row_to_dict`), and containers are encoded recursively. :func:`encode_json` writes
bytes, compactly, and encodes what it meets on the way the same way; an :class:`Answer` whose
bytes are already written is sent as they are.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import ipaddress
import json
import math
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import msgspec
import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Row
from sqlalchemy.orm import Mapper

from flexorm.protocol.durations import Duration
from flexorm.protocol.values import scrub

__all__ = ["Answer", "encode", "encode_json", "row_to_dict"]

_AS_TEXT = (uuid.UUID, ipaddress.IPv4Address, ipaddress.IPv6Address, ipaddress.IPv4Network,
            ipaddress.IPv6Network, ipaddress.IPv4Interface, ipaddress.IPv6Interface)
"""Values whose JSON form is their text (``str``): UUIDs, and the addresses, networks and
interfaces drivers read from network-address columns."""


def row_to_dict(row: Any) -> dict[str, Any]:
    """A mapped instance's column values, keyed by column name."""
    mapper: Mapper[Any] = sa.inspect(type(row))
    return {attr.columns[0].name: getattr(row, attr.key) for attr in mapper.column_attrs}


def _mapped(value: Any) -> bool:
    return sa.inspect(type(value), raiseerr=False) is not None and not isinstance(value, type)


def encode(value: Any) -> Any:
    """A JSON-compatible copy of ``value``.

    Raises:
        TypeError: a value with no JSON form (the server answers 500 and logs it).

    Examples:
        >>> encode({"amount": Decimal("1.50"), "on": dt.date(2024, 5, 1)})
        {'amount': '1.50', 'on': '2024-05-01'}
    """
    if isinstance(value, enum.Enum):  # before int and str: IntEnum, StrEnum
        return encode(value.value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value) if value.isascii() else scrub(value)  # no lone surrogate
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Duration):  # a MySQL TIME: as its parameters take it
        return str(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, _AS_TEXT):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        return {_key(k): encode(v) for k, v in value.items()}
    if isinstance(value, Row):
        return {_key(k): encode(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [encode(v) for v in value]
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if _mapped(value):
        return encode(row_to_dict(value))
    raise TypeError(f"cannot encode a {type(value).__qualname__} as JSON")


def _key(key: Any) -> str:
    encoded = encode(key)
    if isinstance(encoded, str):
        return encoded
    return json.dumps(encoded)


def _default(value: Any) -> Any:
    """What msgspec cannot encode natively: Decimals keep every digit, a MySQL ``TIME`` is its
    text, rows and mappings become dicts (by the same rule as :func:`encode`)."""
    if isinstance(value, (Decimal, Duration, *_AS_TEXT)):
        return str(value)
    if isinstance(value, Row):
        return value._asdict()
    if isinstance(value, Mapping):
        return dict(value)
    if _mapped(value):
        return row_to_dict(value)
    raise TypeError(f"cannot encode a {type(value).__qualname__} as JSON")


_encoder = msgspec.json.Encoder(enc_hook=_default, decimal_format="string")


class Answer(dict[str, Any]):
    """An ``execute_action`` answer, ``{"result": value}``, whose JSON is already written: the
    journal encodes a result in the action's transaction to measure it, and :func:`encode_json`
    then sends those bytes rather than encoding a result of megabytes a second time. Read it as
    any answer; do not change it (its bytes would no longer say the same).

    Args:
        result: the result, of JSON types (as :func:`encode` makes them).
        encoded: ``result``'s JSON, as :func:`encode_json` writes it.

    Examples:
        >>> answer = Answer([1, 2], b"[1,2]")
        >>> answer == {"result": [1, 2]}, encode_json(answer)
        (True, b'{"result":[1,2]}')
    """

    __slots__ = ("json",)

    def __init__(self, result: Any, encoded: bytes) -> None:
        super().__init__(result=result)
        self.json = b'{"result":' + encoded + b"}"


def encode_json(value: Any) -> bytes:
    """Encode an answer as JSON bytes (an :class:`Answer`'s as they were written).

    Raises:
        TypeError: for a value that has no JSON form (the server answers 500 and logs it).

    Examples:
        >>> encode_json({"result": Decimal("10.50")})
        b'{"result":"10.50"}'
    """
    if type(value) is Answer:
        return value.json
    return _encoder.encode(value)
