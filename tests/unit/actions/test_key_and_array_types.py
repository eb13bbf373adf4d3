"""Key and column types met in public sample databases: timestamp and date keys (Pagila's
``payment``), keys typed by a DOMAIN, and ARRAY column parameters (Pagila's ``text[]``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pydantic
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from flexorm.actions.params.columns import column_param
from flexorm.actions.params.ids import id_coercer
from flexorm.reflection.records import SchemaInfo
from tests.unit.actions._schema import collection, column

UTC = dt.UTC


@pytest.mark.parametrize("raw", ["2022-01-25T14:45:02.21+00:00", "2022-01-25 14:45:02.21+00",
                                 "2022-01-25T15:45:02.210+01:00", "2022-01-25T14:45:02.21Z",
                                 "2022-01-25T14:45:02.21"])
def test_timestamptz_ids_are_aware_datetimes(raw):
    coerce = id_coercer(column("paid", sa.DateTime(timezone=True)))
    assert coerce(raw) == dt.datetime(2022, 1, 25, 14, 45, 2, 210000, tzinfo=UTC)


def test_plain_timestamp_ids_are_naive_in_utc():
    coerce = id_coercer(column("at", sa.DateTime()))
    assert coerce("2009-01-01T02:00:00+02:00") == dt.datetime(2009, 1, 1)
    assert coerce("2009-01-01 00:00:00") == dt.datetime(2009, 1, 1)


def test_date_and_time_ids():
    assert id_coercer(column("d", sa.Date()))("1996-07-04") == dt.date(1996, 7, 4)
    assert id_coercer(column("t", sa.Time()))("09:30") == dt.time(9, 30)


@pytest.mark.parametrize(("type_", "raw", "message"), [
    (sa.DateTime(timezone=True), "yesterday", "not an ISO 8601 date and time"),
    (sa.DateTime(), 1643121902, "not an ISO 8601 date and time"),
    (sa.Date(), "1996-02-30", "not an ISO 8601 date"),
    (sa.Time(), "25:00", "not an ISO 8601 time"),
    (sa.Date(), "1" * 100, "not an ISO 8601 date"),
])
def test_bad_temporal_ids(type_, raw, message):
    with pytest.raises(ValueError, match=message):
        id_coercer(column("k", type_))(raw)


def test_a_key_typed_by_a_domain_coerces_as_its_base_type():
    year = postgresql.DOMAIN("year", sa.Integer())
    assert id_coercer(column("y", year))("2006") == 2006


def _validate(type_: sa.types.TypeEngine[Any], value: Any) -> Any:
    films = collection("films", column("id", sa.Integer(), nullable=False, pk=True),
                       column("tags", type_))
    schema = SchemaInfo("postgresql", "public", {"films": films})
    spec = column_param("tags", films, "tags", schema, action="tag")
    return pydantic.TypeAdapter(spec.annotation).validate_python(value)


def test_an_array_parameter_is_a_list_of_its_item_type():
    text_array = postgresql.ARRAY(sa.Text(), dimensions=1)
    assert _validate(text_array, ["Trailers", "Commentaries"]) == ["Trailers", "Commentaries"]
    assert _validate(text_array, '["Trailers"]') == ["Trailers"]
    assert _validate(postgresql.ARRAY(sa.Integer()), ["1", 2]) == [1, 2]
    assert _validate(postgresql.ARRAY(sa.Integer(), dimensions=2), [[1], [2]]) == [[1], [2]]


@pytest.mark.parametrize("value", ["Trailers", "{a,b}", {"a": 1}, [1, 2], ["x\x00"]])
def test_an_array_parameter_refuses_what_would_be_split_or_mangled(value):
    with pytest.raises(pydantic.ValidationError):
        _validate(postgresql.ARRAY(sa.Text(), dimensions=1), value)
