"""Values sent in a form of their own: bytes as base64, datetimes for columns without a time
zone."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field

from flexorm.actions import ColumnRef
from tests.unit.actions._schema import errors_of, validator


def test_bytes_are_sent_as_base64():
    def upload(data: bytes, small: Annotated[bytes, Field(max_length=2)] | None = None) -> None:
        ...

    v = validator(upload)
    assert v.validate({"data": "AP8=\n"}) == {"data": b"\x00\xff", "small": None}
    message = "Enter valid base64 text (A-Z, a-z, 0-9, + and /, padded with =)."
    for bad in ("AP8", "-_8=", "é"):
        assert errors_of(v, {"data": bad}) == {"data": [message]}
    assert errors_of(v, {"data": 5}) == {"data": ["Enter the bytes as base64 text."]}
    assert errors_of(v, {"data": "AA==", "small": "AAAA"}) == {
        "small": ["Data should have at most 2 bytes."]}


def test_a_column_without_time_zone_gets_utc_naive_datetimes():
    def ship(orders, when: Annotated[dt.datetime, ColumnRef.parse("orders.shipped_at")],
             **values) -> None: ...

    v = validator(ship, model="orders", for_instance=True, bulk=True, fields=["shipped_at"])
    values = v.validate({"when": "2024-01-01T10:00:00+02:00",
                         "shipped_at": "2024-01-01T23:30:00-01:00"})
    assert (values["when"], values["shipped_at"]) == (dt.datetime(2024, 1, 1, 8, 0),
                                                      dt.datetime(2024, 1, 2, 0, 30))
    # without an offset: taken as it is
    assert v.validate({"when": "2024-01-01T10:00:00"})["when"] == dt.datetime(2024, 1, 1, 10)
