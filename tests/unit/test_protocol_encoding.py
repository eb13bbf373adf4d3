"""Encoding answers: what action bodies return, exactly."""

from __future__ import annotations

import enum
import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flexorm.journal.kept import keep
from flexorm.protocol.durations import Duration
from flexorm.protocol.encoding import Answer, encode, encode_json


class Color(enum.Enum):
    RED = "red"


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    price: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))


def test_scalars():
    value = {"amount": Decimal("10.10"), "at": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
             "day": date(2024, 5, 1), "t": time(8, 30), "id": uuid.UUID(int=1),
             "color": Color.RED, "tags": {"a"}}
    assert json.loads(encode_json(value)) == {
        "amount": "10.10", "at": "2024-05-01T12:00:00Z", "day": "2024-05-01", "t": "08:30:00",
        "id": "00000000-0000-0000-0000-000000000001", "color": "red", "tags": ["a"],
    }


@pytest.mark.parametrize(("value", "text"), [
    (Duration(hours=100), "100:00:00"),
    (Duration(hours=-1), "-01:00:00"),
    (Duration(minutes=-30), "-00:30:00"),
    (Duration(hours=9, minutes=15), "09:15:00"),
    (Duration(seconds=-1.5), "-00:00:01.500000"),
    (Duration(hours=-838, minutes=-59, seconds=-59), "-838:59:59"),
    (Duration(0), "00:00:00"),
])
def test_a_mysql_time_is_its_text_as_its_parameters_take_it(value, text):
    assert str(value) == encode(value) == json.loads(encode_json({"t": value}))["t"] == text
    assert Duration.of(value) is value
    assert value == timedelta(seconds=value.total_seconds())


def test_other_durations_are_their_seconds():
    # a PostgreSQL interval: its parameters and ids take seconds
    assert encode({"span": timedelta(days=-1, hours=1)}) == {"span": -82800.0}


def test_decimal_keeps_every_digit():
    assert encode_json(Decimal("12345678901234567890.123456789")) == (
        b'"12345678901234567890.123456789"')


def test_rows_and_mapped_objects_become_dicts():
    engine = sa.create_engine("sqlite://")
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT 1 AS id, 'x' AS name")).one()
    assert json.loads(encode_json([row])) == [{"id": 1, "name": "x"}]
    assert json.loads(encode_json(Item(id=3, price=Decimal("1.50")))) == {"id": 3,
                                                                          "price": "1.50"}


def test_unknown_objects_are_refused():
    with pytest.raises(TypeError, match="cannot encode a object"):
        encode_json(object())


def test_an_answer_whose_result_was_measured_is_sent_as_it_was_written():
    """The journal writes a result's JSON to measure it; the answer is not encoded again."""
    result = {"amount": "1.50", "lines": ["é"] * 3}
    kept = keep(result, 1000)
    answer = Answer(result, kept.encoded)
    assert answer == {"result": result}
    assert encode_json(answer) == encode_json({"result": result})
    assert encode_json(Answer(result, b'"written"')) == b'{"result":"written"}'  # as it is
