"""JSON for answers: what action bodies return, encoded exactly and without surprises.

Decimals keep every digit (as strings: a float would round money), datetimes, dates, times and
UUIDs are ISO text, enums their value, sets lists, SQLAlchemy rows and mapped objects dicts of
their columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Row
from sqlalchemy.exc import NoInspectionAvailable
from sqlalchemy.orm import InstanceState

__all__ = ["encode_json"]


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Row):
        return dict(value._mapping)
    if isinstance(value, Mapping):
        return dict(value)
    try:
        state = sa_inspect(value)
    except NoInspectionAvailable:
        state = None
    if isinstance(state, InstanceState):
        return {attr.key: getattr(value, attr.key) for attr in state.mapper.column_attrs}
    raise TypeError(f"cannot encode a {type(value).__name__} as JSON")


_encoder = msgspec.json.Encoder(enc_hook=_default, decimal_format="string")


def encode_json(value: Any) -> bytes:
    """Encode an answer as JSON bytes.

    Raises:
        TypeError: for a value that has no JSON form (the server answers 500 and logs it).

    Examples:
        >>> from decimal import Decimal
        >>> encode_json({"result": Decimal("10.50")})
        b'{"result":"10.50"}'
    """
    return _encoder.encode(value)
