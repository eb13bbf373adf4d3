"""Column parameters whose values take a form of their own, end to end on each database: bytes
as base64, datetimes with an offset for columns that store none, multi-level arrays, MySQL's
TIME durations; and ``fields=`` parameters that were not sent, which must not be written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Annotated, Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flexorm import Flex
from flexorm.settings import Settings
from tests.conftest import run_statements, sync_engine

TOKEN = "param-values-key"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _flex(url: str, **options: Any) -> Flex:
    return Flex(url, token=TOKEN, settings=Settings.from_env().with_(journal=False), **options)


def _dialect(url: str) -> str:
    return sa.make_url(url).get_backend_name()


def _execute(client: TestClient[Any], action: str, params: dict[str, Any],
             model: str | None = None, ids: Sequence[Any] = ()) -> tuple[int, Any]:
    body: dict[str, Any] = {"name": action, "params": params}
    if model is not None:
        body["model"] = model
    if ids:
        body["ids"] = list(ids)
    response = client.post("/api/messages/", headers=AUTH,
                           json={"name": "execute_action", "params": body})
    return response.status_code, response.json()


def _fetch(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = sync_engine(url)
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.exec_driver_sql(sql)]
    engine.dispose()
    return rows


def assign(rows: list[Any], **values: Any) -> list[str]:
    """The docs' ``fields=`` body: every value received is assigned."""
    for row in rows:
        for name, value in values.items():
            setattr(row, name, value)
    return sorted(values)


# -- bytes ---------------------------------------------------------------------------------------

_PICS = {
    "sqlite": "CREATE TABLE pics (id INTEGER PRIMARY KEY, photo BLOB, small BLOB)",
    "postgresql": "CREATE TABLE pics (id INT PRIMARY KEY, photo BYTEA, small BYTEA)",
    "mysql": "CREATE TABLE pics (id INT PRIMARY KEY, photo LONGBLOB, small VARBINARY(4))",
}


@pytest.fixture
def pics(any_url: str) -> Iterator[TestClient[Any]]:
    run_statements(any_url, [_PICS[_dialect(any_url)], "INSERT INTO pics (id) VALUES (1)"])
    flex = _flex(any_url)

    @flex.action(model="pics", for_instance=True, bulk=True, fields=["photo"])
    def set_photo(rows: list[Any], **values: Any) -> list[str]:
        return assign(rows, **values)

    @flex.action(model="pics", for_instance=True)
    def set_typed(row: Any, photo: Annotated[bytes, flex.column("pics.photo")]) -> str:
        row.photo = photo
        return type(photo).__name__

    @flex.action()
    def echo(data: bytes) -> bytes:
        return data

    with TestClient(flex.app) as client:
        yield client


def _photo(url: str) -> tuple[Any, ...]:
    return tuple(None if v is None else bytes(v)
                 for v in _fetch(url, "SELECT photo, small FROM pics")[0])


def test_binary_columns_take_base64_and_the_body_gets_bytes(any_url, pics):
    assert _execute(pics, "set_photo", {"photo": "AP8="}, "pics", [1]) == (
        200, {"result": ["photo"]})
    assert _photo(any_url) == (b"\x00\xff", None)
    assert _execute(pics, "set_typed", {"photo": "AQID"}, "pics", [1]) == (
        200, {"result": "bytes"})
    assert _photo(any_url) == (b"\x01\x02\x03", None)
    assert _execute(pics, "echo", {"data": "AP8="}) == (200, {"result": "AP8="})


def test_bad_base64_is_a_field_error_and_nothing_is_written(any_url, pics):
    message = "Enter valid base64 text (A-Z, a-z, 0-9, + and /, padded with =)."
    for action in ("set_photo", "set_typed"):
        assert _execute(pics, action, {"photo": "AP8"}, "pics", [1]) == (
            400, {"photo": [message]})
    assert _photo(any_url) == (None, None)


@pytest.mark.mariadb
def test_a_varbinary_column_takes_as_many_bytes_as_it_holds(mariadb_url):
    run_statements(mariadb_url, [_PICS["mysql"], "INSERT INTO pics (id) VALUES (1)"])
    flex = _flex(mariadb_url)
    flex.action(model="pics", for_instance=True, bulk=True, fields=["small"])(assign)
    with TestClient(flex.app) as client:
        assert _execute(client, "assign", {"small": "AAECAwQ="}, "pics", [1]) == (
            400, {"small": ["Data should have at most 4 bytes."]})
        assert _execute(client, "assign", {"small": "AAECAw=="}, "pics", [1]) == (
            200, {"result": ["small"]})
    assert _photo(mariadb_url) == (None, b"\x00\x01\x02\x03")


# -- offsets -------------------------------------------------------------------------------------

_EVENTS = {
    "sqlite": ("CREATE TABLE ev (id INTEGER PRIMARY KEY, ts DATETIME, at TIMESTAMP)",
               "SELECT ts, at FROM ev"),
    "postgresql": ("CREATE TABLE ev (id INT PRIMARY KEY, ts TIMESTAMP, at TIMESTAMPTZ)",
                   "SELECT ts, at AT TIME ZONE 'UTC' FROM ev"),
    "mysql": ("CREATE TABLE ev (id INT PRIMARY KEY, ts DATETIME, at TIMESTAMP NULL)",
              "SELECT ts, at FROM ev"),
}


def _instants(url: str, sql: str) -> list[str]:
    """The stored values as UTC wall-clock text (SQLite answers text)."""
    return [str(value)[:19] for value in _fetch(url, sql)[0]]


def test_an_offset_is_converted_to_utc_for_a_column_that_stores_none(any_url):
    ddl, select = _EVENTS[_dialect(any_url)]
    run_statements(any_url, [ddl, "INSERT INTO ev (id) VALUES (1)"])
    flex = _flex(any_url)
    flex.action(model="ev", for_instance=True, bulk=True, fields=["ts", "at"])(assign)

    @flex.action(model="ev", for_instance=True)
    def move(row: Any, ts: Annotated[dt.datetime, flex.column("ev.ts")]) -> str:
        row.ts = ts
        return ts.isoformat()

    with TestClient(flex.app) as client:
        assert _execute(client, "assign", {"ts": "2024-01-01T10:00:00+02:00",
                                                "at": "2024-01-01T10:00:00+02:00"},
                        "ev", [1]) == (200, {"result": ["at", "ts"]})
        assert _instants(any_url, select) == ["2024-01-01 08:00:00", "2024-01-01 08:00:00"]
        assert _execute(client, "move", {"ts": "2024-06-30T23:30:00-01:00"}, "ev", [1]) == (
            200, {"result": "2024-07-01T00:30:00"})
        # without an offset: stored as it is
        assert _execute(client, "move", {"ts": "2024-01-01T10:00:00"}, "ev", [1]) == (
            200, {"result": "2024-01-01T10:00:00"})
    assert _instants(any_url, select)[0] == "2024-01-01 10:00:00"


@pytest.mark.parametrize("sent", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_an_instant_out_of_range_in_utc_is_a_field_error(any_url, sent):
    """PostgreSQL would store a timestamptz of the year 10000, and no Python program could read
    the row back; a naive column's conversion to UTC would overflow."""
    ddl, select = _EVENTS[_dialect(any_url)]
    run_statements(any_url, [ddl, "INSERT INTO ev (id) VALUES (1)"])
    flex = _flex(any_url)
    flex.action(model="ev", for_instance=True, bulk=True, fields=["ts", "at"])(assign)
    refused = "The date is out of range once converted to UTC (years 1 to 9999)."
    with TestClient(flex.app) as client:
        fields = ["ts", "at"] if _dialect(any_url) == "postgresql" else ["ts"]
        for field in fields:
            assert _execute(client, "assign", {field: sent}, "ev", [1]) == (
                400, {field: [refused]})
    assert _fetch(any_url, select) == [(None, None)]


class Base(DeclarativeBase):
    pass


class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


def test_a_sqlite_model_column_with_time_zone_stores_utc(sqlite_url):
    """SQLite writes a datetime's text without its offset, whatever the model says."""
    run_statements(sqlite_url, ["CREATE TABLE events (id INTEGER PRIMARY KEY, at DATETIME)",
                                "INSERT INTO events (id) VALUES (1)"])
    flex = _flex(sqlite_url, base=Base)
    flex.action(model=Event, for_instance=True, bulk=True, fields=["at"])(assign)
    with TestClient(flex.app) as client:
        assert _execute(client, "assign", {"at": "2024-01-01T10:00:00+02:00"},
                        "events", [1]) == (200, {"result": ["at"]})
    assert _instants(sqlite_url, "SELECT at FROM events") == ["2024-01-01 08:00:00"]


# -- parameters not sent, typed column parameters ----------------------------------------------


def test_fields_not_sent_are_not_written_and_a_typed_column_parameter_is_required(db_url):
    run_statements(db_url, [
        "CREATE TABLE orders (id INT PRIMARY KEY, total NUMERIC(10, 2) NOT NULL DEFAULT 0,"
        " status VARCHAR(10) NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'shipped')),"
        " note TEXT)",
        "INSERT INTO orders (id, total, status) VALUES (1, 5, 'shipped')",
    ])
    flex = _flex(db_url)
    flex.action(model="orders", for_instance=True, bulk=True,
                fields=["status", "note"])(assign)

    @flex.action(model="orders", for_instance=True)
    def set_total(order: Any, total: Annotated[Decimal, flex.column("orders.total")]) -> str:
        order.total = total
        return type(total).__name__

    with TestClient(flex.app) as client:
        listed = client.post("/api/messages/", headers=AUTH,
                             json={"name": "get_action_list"}).json()
        params = {(a["name"], p["name"]): p for a in listed for p in a.get("params", [])}
        assert _execute(client, "assign", {"note": "hi", "status": ""}, "orders",
                        [1]) == (200, {"result": ["note"]})
        assert _execute(client, "set_total", {}, "orders", [1]) == (
            400, {"total": ["This field is required."]})
        assert _execute(client, "set_total", {"total": "7.5"}, "orders", [1]) == (
            200, {"result": "Decimal"})
    assert params["set_total", "total"]["required"] is True
    assert "default" not in params["set_total", "total"]
    assert "default" not in params["assign", "status"]
    assert _fetch(db_url, "SELECT status, note, total FROM orders") == [
        ("shipped", "hi", Decimal("7.50"))]


@pytest.mark.postgres
def test_a_postgres_enum_not_sent_keeps_its_value(pg_url):
    run_statements(pg_url, [
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
        "CREATE TABLE people (id INT PRIMARY KEY, m mood NOT NULL DEFAULT 'ok', note TEXT)",
        "INSERT INTO people VALUES (1, 'happy', NULL)",
    ])
    flex = _flex(pg_url)
    flex.action(model="people", for_instance=True, bulk=True, fields=["m", "note"])(assign)
    with TestClient(flex.app) as client:
        assert _execute(client, "assign", {"note": "hi"}, "people", [1]) == (
            200, {"result": ["note"]})
    assert _fetch(pg_url, "SELECT m::text, note FROM people") == [("happy", "hi")]


# -- arrays --------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_two_level_array_takes_a_two_level_list(pg_url):
    run_statements(pg_url, ["CREATE TABLE boards (id INT PRIMARY KEY, grid INT[][])",
                            "INSERT INTO boards VALUES (1, '{{1,2},{3,4}}')"])
    flex = _flex(pg_url)
    flex.action(model="boards", for_instance=True, bulk=True, fields=["grid"])(assign)
    with TestClient(flex.app) as client:
        assert _execute(client, "assign", {"grid": [[5, 6], [7, 8]]}, "boards", [1]) == (
            200, {"result": ["grid"]})
        assert _fetch(pg_url, "SELECT grid FROM boards") == [([[5, 6], [7, 8]],)]
        for bad, message in (
                ([[5, 6], [7]], "The lists on each level must have the same length (the array "
                                "is rectangular): [1] differs."),
                ([[5, 6], 7], "The lists on each level must have the same length (the array "
                              "is rectangular): [1] differs."),
                ([[5, "x"]], "Item [0][1]: Input should be a valid integer, unable to parse "
                             "string as an integer.")):
            assert _execute(client, "assign", {"grid": bad}, "boards", [1]) == (
                400, {"grid": [message]})
        assert _execute(client, "assign", {"grid": "[[1], [2]]"}, "boards", [1]) == (
            200, {"result": ["grid"]})
    assert _fetch(pg_url, "SELECT grid FROM boards") == [([[1], [2]],)]


@pytest.mark.postgres
def test_an_array_of_an_enum_type_takes_its_values_on_one_level(pg_url):
    """Each item is one of the enum's values (a field error otherwise, not the database's
    refusal), on one level: SQLAlchemy reads no other array of an enum type back, so a
    two-level one would make every later load of the row fail."""
    run_statements(pg_url, ["CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
                            "CREATE TABLE films (id INT PRIMARY KEY, moods mood[])",
                            "INSERT INTO films VALUES (1, '{ok}')"])
    flex = _flex(pg_url)
    flex.action(model="films", for_instance=True, bulk=True, fields=["moods"])(assign)
    with TestClient(flex.app) as client:
        assert _execute(client, "assign", {"moods": ["happy", "sad"]}, "films", [1]) == (
            200, {"result": ["moods"]})
        for bad, message in (
                (["XXX"], "Item [0]: Input should be 'sad', 'ok' or 'happy'."),
                ([["ok"]], "Enter a list of values, not of lists.")):
            assert _execute(client, "assign", {"moods": bad}, "films", [1]) == (
                400, {"moods": [message]})
        assert _execute(client, "assign", {"moods": ["ok"]}, "films", [1]) == (
            200, {"result": ["moods"]})
    assert _fetch(pg_url, "SELECT moods::text FROM films") == [("{ok}",)]


@pytest.mark.postgres
def test_a_range_takes_its_text_or_the_object_an_answer_holds(pg_url):
    """What an answer writes for a range can be sent back as its parameter (an agent reads an
    object, and sends it back)."""
    run_statements(pg_url, ["CREATE TABLE slots (id INT PRIMARY KEY, r int4range, "
                            "m int4multirange)",
                            "INSERT INTO slots VALUES (1, '[1,5]', '{[1,3],[5,7]}')"])
    flex = _flex(pg_url)
    flex.action(model="slots", for_instance=True, bulk=True, fields=["r", "m"])(assign)

    @flex.action(model="slots", for_instance=True)
    def show(slot: Any) -> Any:
        return slot

    with TestClient(flex.app) as client:
        _, shown = _execute(client, "show", {}, "slots", [1])
        read = {"r": shown["result"]["r"], "m": shown["result"]["m"]}
        assert read == {"r": {"lower": 1, "upper": 6, "bounds": "[)", "empty": False},
                        "m": [{"lower": 1, "upper": 4, "bounds": "[)", "empty": False},
                              {"lower": 5, "upper": 8, "bounds": "[)", "empty": False}]}
        assert _execute(client, "assign", read, "slots", [1]) == (200, {"result": ["m", "r"]})
        assert _fetch(pg_url, "SELECT r::text, m::text FROM slots") == [
            ("[1,6)", "{[1,4),[5,8)}")]
        assert _execute(client, "assign", {"r": {"lower": 3, "upper": None, "bounds": "(]"},
                                           "m": "{[2,3]}"}, "slots", [1]) == (
            200, {"result": ["m", "r"]})
        assert _fetch(pg_url, "SELECT r::text, m::text FROM slots") == [("[4,)", "{[2,4)}")]
        for bad, message in (
                ({"r": {"lower": 1, "bounds": "<>"}},
                 "A range's bounds are one of [), (], [], ()."),
                ({"r": {"low": 1}}, 'Enter a range as its text, such as "[1,5)", or as an '
                                    "object with lower, upper and bounds."),
                ({"m": {"lower": 1}}, 'Enter a multirange as its text, such as "{[1,3),[5,7)}", '
                                      "or as a list of ranges.")):
            assert _execute(client, "assign", bad, "slots", [1]) == (
                400, {next(iter(bad)): [message]})
    assert _fetch(pg_url, "SELECT r::text, m::text FROM slots") == [("[4,)", "{[2,4)}")]


# -- MySQL TIME ----------------------------------------------------------------------------------


@pytest.mark.mariadb
def test_a_mysql_time_is_a_duration(mariadb_url):
    run_statements(mariadb_url, ["CREATE TABLE shifts (id INT PRIMARY KEY, dur TIME)",
                                 "INSERT INTO shifts VALUES (1, '10:00:00')"])
    flex = _flex(mariadb_url)

    @flex.action(model="shifts", for_instance=True, bulk=True, fields=["dur"])
    def set_dur(rows: list[Any], **values: Any) -> list[Any]:
        assign(rows, **values)
        return [isinstance(values["dur"], dt.timedelta), values["dur"]]

    def stored() -> str:
        return str(_fetch(mariadb_url, "SELECT CAST(dur AS CHAR) FROM shifts")[0][0])

    with TestClient(flex.app) as client:
        listed = client.post("/api/messages/", headers=AUTH,
                             json={"name": "get_action_list"}).json()
        assert listed[0]["params"] == [{"name": "dur", "field": "CharField", "required": False}]
        for sent, kept in (("100:00:00", "100:00:00"), ("-01:30", "-01:30:00"),
                           ("-00:30:00", "-00:30:00"), ("838:59:59", "838:59:59")):
            # the body's timedelta is answered as the database shows it
            assert _execute(client, "set_dur", {"dur": sent}, "shifts", [1]) == (
                200, {"result": [True, kept]})
            assert stored() == kept
        for bad, message in (
                ("839:00:00", "Enter a time between -838:59:59 and 838:59:59."),
                ("10:61", "Enter a time as hours:minutes[:seconds], such as 10:30, 100:00:00 "
                          "or -01:30:00.")):
            assert _execute(client, "set_dur", {"dur": bad}, "shifts", [1]) == (
                400, {"dur": [message]})
    assert stored() == "838:59:59"
