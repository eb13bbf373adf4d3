"""Key and column types met in public sample databases: timestamp and date keys (Pagila's
``payment``), keys typed by a DOMAIN, and ARRAY column parameters (Pagila's ``text[]``); ids of
boolean, unsigned, binary, interval, MySQL TIME and untyped keys, and keys that cannot name a
record."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pydantic
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

from flexorm.actions.params.columns import column_param
from flexorm.actions.params.ids import id_coercer, key_problem, record_id_coercer
from flexorm.protocol.durations import Duration
from flexorm.reflection.records import SchemaInfo
from flexorm.reflection.typemap import MySQLTime
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


@pytest.mark.parametrize(("raw", "expected"), [
    (True, True), (False, False), ("true", True), (" FALSE ", False), ("t", True), (1, True),
    ("0", False)])
def test_boolean_ids(raw, expected):
    assert id_coercer(column("k", sa.Boolean()))(raw) is expected


@pytest.mark.parametrize("raw", ["yes", 2, 1.5, None, "", [True]])
def test_bad_boolean_ids(raw):
    with pytest.raises(ValueError, match="not true or false"):
        id_coercer(column("k", sa.Boolean()))(raw)


def test_mysql_boolean_ids_are_its_tinyint_values():
    coerce = id_coercer(column("k", mysql.TINYINT(display_width=1)))
    assert [coerce(True), coerce("false"), coerce(5), coerce("-3")] == [1, 0, 5, -3]
    with pytest.raises(ValueError, match="not true, false or a whole number"):
        coerce(300)


def test_unsigned_and_bit_ids_take_64_unsigned_bits():
    for type_ in (mysql.BIGINT(unsigned=True), mysql.BIT(64)):
        coerce = id_coercer(column("k", type_))
        assert coerce(2**64 - 1) == coerce("18446744073709551615") == 2**64 - 1
        for bad in (-1, 2**64):
            with pytest.raises(ValueError, match="out of range: from 0 to 18446744073709551615"):
                coerce(bad)
    assert id_coercer(column("y", mysql.YEAR()))("2024") == 2024
    with pytest.raises(ValueError, match="out of range"):
        id_coercer(column("k", sa.BigInteger()))(2**63)


def test_binary_ids_are_base64():
    for type_ in (postgresql.BYTEA(), mysql.VARBINARY(16), sa.LargeBinary(), mysql.TINYBLOB()):
        assert id_coercer(column("k", type_))("AQI=") == b"\x01\x02"
    with pytest.raises(ValueError, match="not base64"):
        id_coercer(column("k", postgresql.BYTEA()))("abc")


def test_floating_point_ids():
    coerce = id_coercer(column("k", sa.Float()))
    assert [coerce(1.5), coerce("1.5"), coerce(2)] == [1.5, 1.5, 2.0]
    for bad in ("x", "nan", "1e400", True):
        with pytest.raises(ValueError, match="not a number"):
            coerce(bad)


def test_interval_ids_are_seconds():
    coerce = id_coercer(column("k", postgresql.INTERVAL()))
    assert coerce(86400) == coerce("86400.0") == dt.timedelta(days=1)
    for bad in ("1 day", "1e400", True):
        with pytest.raises(ValueError, match="not a duration in seconds"):
            coerce(bad)


@pytest.mark.parametrize("type_", [MySQLTime(), mysql.TIME(fsp=3)])
def test_mysql_time_ids_are_durations_as_answers_write_them(type_):
    coerce = id_coercer(column("k", type_))
    for raw, expected in (("100:00:00", dt.timedelta(hours=100)),
                          (" -01:30 ", dt.timedelta(minutes=-90)),
                          ("10:00:00.5", dt.timedelta(hours=10, milliseconds=500)),
                          (dt.time(10, 0), dt.timedelta(hours=10))):
        found = coerce(raw)
        assert (found, type(found)) == (expected, Duration)
    for bad in ("839:00:00", "1 day", 3600, "10:00:00+02:00", True, "1" * 100):
        with pytest.raises(ValueError, match=r"^not a time from -838:59:59 to 838:59:59, as "):
            coerce(bad)
    # elsewhere TIME is a time of day
    assert id_coercer(column("k", sa.Time()))("10:00:00") == dt.time(10)


def test_sqlite_untyped_ids_keep_their_json_type():
    coerce = id_coercer(column("k", sa.types.NullType()), "sqlite")
    assert [coerce(1), coerce(2.5), coerce("1")] == [1, 2.5, "1"]
    # elsewhere a type SQLAlchemy does not know compares as text
    assert id_coercer(column("k", sa.types.NullType()), "postgresql")(1) == "1"


@pytest.mark.parametrize(("type_", "what"), [
    (mysql.SET("a", "b"), "a SET column"), (postgresql.ARRAY(sa.Integer()), "an array column"),
    (postgresql.JSONB(), "a JSON column"), (sa.JSON(), "a JSON column"),
])
def test_keys_whose_values_cannot_name_a_record(type_, what):
    message = f"k is {what}, whose values cannot identify a record"
    assert key_problem(column("k", type_)) == message
    with pytest.raises(ValueError, match=message):
        id_coercer(column("k", type_))("a")


def test_a_record_id_is_a_first_column_value_or_a_full_key():
    lines = collection("lines", column("order_id", sa.Integer(), nullable=False, pk=True),
                       column("line", sa.Integer(), nullable=False, pk=True),
                       pk=("order_id", "line"))
    coerce = record_id_coercer(lines)
    assert coerce("1") == 1
    assert coerce({"line": "2", "order_id": 1}) == (1, 2)
    with pytest.raises(ValueError, match="line: not a whole number"):
        coerce({"line": "x", "order_id": 1})
    with pytest.raises(ValueError, match="a full key names exactly the key columns"):
        coerce({"order_id": 1})


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
