"""Record ids coerced to the key type; results encoded as JSON."""

from __future__ import annotations

import datetime as dt
import enum
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flexorm.actions.params.ids import id_coercer
from flexorm.protocol.encoding import encode, encode_json
from tests.unit.actions._schema import column

INT = id_coercer(column("id", sa.Integer()))
UUID = id_coercer(column("id", sa.Uuid()))
TEXT = id_coercer(column("id", sa.String(20)))
NUMBER = id_coercer(column("id", sa.Numeric(10, 0)))


@pytest.mark.parametrize(("raw", "expected"), [("5", 5), (5, 5), (5.0, 5), (" 7 ", 7), ("-2", -2)])
def test_integer_ids(raw, expected):
    assert INT(raw) == expected


@pytest.mark.parametrize("raw", ["abc", True, 1.5, "5.5", None, [], "9" * 30, 2**64, "1e3"])
def test_bad_integer_ids(raw):
    with pytest.raises(ValueError):  # noqa: PT011 - the message is checked elsewhere
        INT(raw)


def test_uuid_string_and_decimal_ids():
    value = uuid.uuid4()
    assert UUID(str(value)) == value
    with pytest.raises(ValueError, match="not a UUID"):
        UUID("nope")
    assert TEXT(5) == "5"
    assert TEXT("ab") == "ab"
    with pytest.raises(ValueError, match="NUL"):
        TEXT("a\x00")
    with pytest.raises(ValueError, match="too long"):
        TEXT("x" * 5000)
    assert NUMBER("12") == Decimal(12)
    with pytest.raises(ValueError, match="not a number"):
        NUMBER("NaN")


class Status(enum.Enum):
    NEW = "new"


class Level(enum.IntEnum):
    HIGH = 3


@dataclass
class Point:
    x: int
    at: dt.date


class Base(DeclarativeBase):
    pass


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    total: Mapped[Decimal] = mapped_column("order total", sa.Numeric(10, 2))


def test_encoding():
    value = uuid.uuid4()
    order = Order(id=1, total=Decimal("9.90"))
    encoded = encode({
        "decimal": Decimal("1.10"), "when": dt.datetime(2024, 1, 2, 3, 4, tzinfo=dt.UTC),
        "day": dt.date(2024, 1, 2), "at": dt.time(9, 5), "uuid": value, "status": Status.NEW,
        "level": Level.HIGH, "tuple": (1, {2}), "bytes": b"hi",
        "point": Point(1, dt.date(2024, 1, 1)),
        "row": order, "rows": [order], 5: "int key", "nan": float("nan"),
    })
    assert encoded == {
        "decimal": "1.10", "when": "2024-01-02T03:04:00+00:00", "day": "2024-01-02",
        "at": "09:05:00", "uuid": str(value), "status": "new", "level": 3, "tuple": [1, [2]],
        "bytes": "aGk=", "point": {"x": 1, "at": "2024-01-01"},
        "row": {"id": 1, "order total": "9.90"}, "rows": [{"id": 1, "order total": "9.90"}],
        "5": "int key", "nan": None,
    }
    assert type(encoded["level"]) is int
    assert json.loads(encode_json(encoded)) == encoded


def test_unencodable_values_raise_type_error():
    with pytest.raises(TypeError, match="cannot encode a object"):
        encode({"x": object()})
    with pytest.raises(TypeError):
        encode(Order)  # a class, not a row
