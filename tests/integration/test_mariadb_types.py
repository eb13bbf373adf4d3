"""MySQL's idioms on MariaDB, as their users mean them: BOOLEAN, YEAR, JSON, BIT, SET, DOUBLE,
TIME.

Each column kind is checked in the model description and as the parameter an action derives
from it, with good and bad values sent through the messages endpoint.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from flexorm import ActionContext, Flex
from flexorm.reflection import reflect_sync
from flexorm.settings import Settings
from tests.conftest import NO_DATA_SOURCE, run_statements, sync_engine

pytestmark = pytest.mark.mariadb

TOKEN = "mariadb-types-key"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

SCHEMA = [
    "CREATE TABLE things (id INT AUTO_INCREMENT PRIMARY KEY, active BOOLEAN NOT NULL DEFAULT TRUE, "
    "flag BOOL, level TINYINT, tiny TINYINT(4), made YEAR, doc JSON, bits BIT(4), at POINT, "
    "area POLYGON, perks SET('gift', 'rush', 'wrap'), stock TINYINT UNSIGNED)",
    "INSERT INTO things (id, level) VALUES (1, 3)",
]


@pytest.fixture
def client(mariadb_url: str) -> Iterator[TestClient[Any]]:
    run_statements(mariadb_url, SCHEMA)
    flex = Flex(mariadb_url, token=TOKEN, settings=Settings.from_env().with_(journal=False))

    @flex.action(model="things", for_instance=True,
                 fields=["active", "flag", "level", "made", "doc", "bits", "perks", "stock"])
    def update(thing: Any, **values: Any) -> dict[str, Any]:
        for name, value in values.items():
            setattr(thing, name, value)
        return {"id": thing.id}

    @flex.action(model="things", for_instance=True, fields=["at"])
    def place(thing: Any, at: str) -> None:
        thing.at = at

    with TestClient(flex.app) as test_client:
        yield test_client


def _fields(client: TestClient[Any]) -> dict[str, dict[str, Any]]:
    described = client.get("/api/model_descriptions/", headers=AUTH).json()
    return {f["name"]: f for f in next(m for m in described if m["model"] == "things")["fields"]}


def _row(url: str) -> tuple[Any, ...]:
    engine = sync_engine(url)
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT active, flag, level, made, doc, bits, perks, stock FROM things "
            "WHERE id = 1").one()
    engine.dispose()
    return tuple(row)


def _update(client: TestClient[Any], **params: Any) -> tuple[int, Any]:
    response = client.post("/api/messages/", headers=AUTH, json={
        "name": "execute_action",
        "params": {"model": "things", "name": "update", "id": 1, "params": params}})
    return response.status_code, response.json()


def test_descriptions(client: TestClient[Any]) -> None:
    fields = _fields(client)
    assert fields["active"] == {
        "name": "active", "db_column": "active", "field": "BooleanField",
        "db_field": "BooleanField", "filterable": True, "null": False, "editable": True,
        "required": False, "default_type": "value", "default_value": True,
        "params": {"db_internal_type": "TINYINT(1)"}, **NO_DATA_SOURCE}
    brief = {name: (f["field"], f["db_field"], f["params"]["db_internal_type"])
             for name, f in fields.items()}
    assert brief["flag"] == ("BooleanField", "BooleanField", "TINYINT(1)")
    assert brief["level"] == ("IntegerField", "IntegerField", "TINYINT(4)")
    assert brief["tiny"] == ("IntegerField", "IntegerField", "TINYINT(4)")
    assert brief["made"] == ("IntegerField", "IntegerField", "YEAR(4)")
    assert brief["doc"] == ("JSONField", "JSONField", "JSON")
    assert brief["bits"] == ("IntegerField", "IntegerField", "BIT(4)")
    assert brief["at"] == ("CharField", "CharField", "POINT")
    assert brief["area"] == ("CharField", "CharField", "POLYGON")
    # a SET holds any of its members: a text field that says which
    assert brief["perks"] == ("CharField", "CharField", "SET('gift','rush','wrap')")
    assert fields["perks"]["params"]["set_values"] == ["gift", "rush", "wrap"]


def test_spatial_columns_are_one_log_line(
    client: TestClient[Any], mariadb_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = sync_engine(mariadb_url)
    with caplog.at_level(logging.INFO, logger="flexorm.reflection"), engine.connect() as conn:
        reflect_sync(conn, Settings(include=["things"]))
    engine.dispose()
    lines = [r.getMessage() for r in caplog.records if r.name == "flexorm.reflection"]
    assert lines == ["spatial columns are shown as CharField: things.at, things.area"]


def test_derived_parameters(client: TestClient[Any]) -> None:
    response = client.post("/api/messages/", headers=AUTH, json={"name": "get_action_list"})
    update = next(a for a in response.json() if a["name"] == "update")
    fields = {p["name"]: p["field"] for p in update["params"]}
    assert fields == {"active": "BooleanField", "flag": "BooleanField", "level": "IntegerField",
                      "made": "IntegerField", "doc": "JSONField", "bits": "IntegerField",
                      "perks": "CharField", "stock": "IntegerField"}
    perks = next(p for p in update["params"] if p["name"] == "perks")
    assert perks["params"]["set_values"] == ["gift", "rush", "wrap"]


def test_good_values_are_written(client: TestClient[Any], mariadb_url: str) -> None:
    assert _update(client, active=False, flag=True, level=7, made=2024,
                   doc={"tags": ["a", "b"]}, bits=5, perks="wrap,gift",
                   stock=255) == (200, {"result": {"id": 1}})
    active, flag, level, made, doc, bits, perks, stock = _row(mariadb_url)
    assert (active, flag, level, made, json.loads(doc), bits, perks, stock) == (
        0, 1, 7, 2024, {"tags": ["a", "b"]}, b"\x05", "gift,wrap", 255)


@pytest.mark.parametrize(("sent", "stored"), [
    (["rush", "gift", "rush"], "gift,rush"),
    ([], ""),
    ("wrap", "wrap"),
])
def test_a_set_takes_its_members_as_a_list_or_as_text(
    client: TestClient[Any], mariadb_url: str, sent: Any, stored: str
) -> None:
    assert _update(client, perks=sent) == (200, {"result": {"id": 1}})
    assert _row(mariadb_url)[6] == stored


def test_bad_values_are_refused(client: TestClient[Any], mariadb_url: str) -> None:
    before = _row(mariadb_url)
    for params in ({"active": "maybe"}, {"level": "high"}, {"made": "last year"},
                   {"bits": "four"}, {"made": 1900}, {"made": 2156}, {"level": 128},
                   {"level": -129}, {"stock": 256}, {"stock": -1}, {"bits": 16},
                   {"perks": "gift,fast"}, {"perks": ["gift", 3]}, {"perks": 5}):
        status, body = _update(client, **params)
        assert status == 400, (params, body)
        assert set(body) == set(params), body
    assert _row(mariadb_url) == before


def test_text_a_spatial_column_cannot_read_is_refused_as_not_valid(
        client: TestClient[Any]) -> None:
    """MariaDB refuses it (1416, "Cannot get geometry object") with SQLSTATE 22003, which
    was answered as a number out of range."""
    for sent in ("POINT(1 2)", "(1,2)", "somewhere"):
        response = client.post("/api/messages/", headers=AUTH, json={
            "name": "execute_action",
            "params": {"model": "things", "name": "place", "id": 1, "params": {"at": sent}}})
        assert (response.status_code, response.json()) == (400, {"non_field_errors": [
            "The database refused a value: it is not valid for its column's type"]})


def test_a_set_names_the_allowed_members(client: TestClient[Any]) -> None:
    assert _update(client, perks="gift,fast") == (400, {"perks": [
        "'fast' is not one of the allowed values: 'gift', 'rush', 'wrap'."]})


def test_the_limits_of_year_and_tinyint_are_accepted(
    client: TestClient[Any], mariadb_url: str
) -> None:
    assert _update(client, made=1901, level=-128, stock=0, bits=15)[0] == 200
    row = _row(mariadb_url)
    assert (row[2], row[3], row[5], row[7]) == (-128, 1901, b"\x0f", 0)
    assert _update(client, made=2155, level=127)[0] == 200
    assert _row(mariadb_url)[2:4] == (127, 2155)


def test_double_and_real_are_floats_in_the_body_and_the_answer(mariadb_url: str) -> None:
    run_statements(mariadb_url, [
        "CREATE TABLE readings (id INT PRIMARY KEY, value DOUBLE, scaled DOUBLE(8, 2),"
        " other REAL)",
        "INSERT INTO readings VALUES (1, 2.5, 1.25, 0.1)",
    ])
    flex = Flex(mariadb_url, token=TOKEN, settings=Settings.from_env().with_(journal=False))

    @flex.action(model="readings", for_instance=True)
    def show(row: Any) -> dict[str, Any]:
        return {"row": row, "kinds": [type(row.value).__name__, type(row.scaled).__name__,
                                      type(row.other).__name__]}

    with TestClient(flex.app) as http:
        response = http.post("/api/messages/", headers=AUTH, json={
            "name": "execute_action", "params": {"model": "readings", "name": "show", "id": 1}})
    assert response.json() == {"result": {
        "row": {"id": 1, "value": 2.5, "scaled": 1.25, "other": 0.1},
        "kinds": ["float", "float", "float"]}}


# -- TIME: a duration from -838:59:59 to 838:59:59 ------------------------------------------------

SHIFTS = [
    "CREATE TABLE shifts (id INT PRIMARY KEY, dur TIME, fine TIME(3))",
    "INSERT INTO shifts VALUES (1, '100:00:00', '-00:00:01.5'), (2, '-01:00:00', NULL), "
    "(3, '-00:30:00', '838:59:59'), (4, '09:15:00', '23:59:59.999')",
    "CREATE VIEW shift_lengths AS SELECT id, dur FROM shifts",
]
SHIFT_ROWS = [
    {"id": 1, "dur": "100:00:00", "fine": "-00:00:01.500000"},
    {"id": 2, "dur": "-01:00:00", "fine": None},
    {"id": 3, "dur": "-00:30:00", "fine": "838:59:59"},
    {"id": 4, "dur": "09:15:00", "fine": "23:59:59.999000"},
]


def _shifts_flex(url: str) -> Flex:
    run_statements(url, SHIFTS)
    return Flex(url, token=TOKEN, settings=Settings.from_env().with_(journal=False))


def _run(client: TestClient[Any], action: str, **params: Any) -> tuple[int, Any]:
    response = client.post("/api/messages/", headers=AUTH, json={
        "name": "execute_action", "params": {"name": action, **params}})
    return response.status_code, response.json()


def _stored_shift(url: str) -> tuple[Any, ...]:
    engine = sync_engine(url)
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT CAST(dur AS CHAR), CAST(fine AS CHAR) FROM shifts WHERE id = 1").one()
    engine.dispose()
    return tuple(row)


def test_time_is_a_duration_in_the_body_and_the_answer(mariadb_url: str) -> None:
    """A stored 100:00:00 is not the time of day 04:00:00, nor -01:00:00 the time 23:00:00: the
    body gets the durations, and the answer gives them as the parameters take them, from the
    rows, from a select through the session, from a view and over the HTTP operation."""
    flex = _shifts_flex(mariadb_url)

    @flex.action(model="shifts", for_instance=True, bulk=True)
    def show(rows: list[Any], ctx: ActionContext) -> dict[str, Any]:
        table = ctx.collection.sa_table
        return {
            "rows": rows,
            "selected": ctx.session.execute(
                sa.select(table.c.id, table.c.dur).order_by(table.c.id)).all(),
            "hours": [row.dur / dt.timedelta(hours=1) for row in rows],
            "durations": all(isinstance(row.dur, dt.timedelta) for row in rows),
        }

    @flex.action(model="shift_lengths", for_instance=True, bulk=True)
    def lengths(rows: list[Any]) -> list[Any]:
        return [row.to_dict() for row in rows]

    expected = {"rows": SHIFT_ROWS,
                "selected": [{"id": r["id"], "dur": r["dur"]} for r in SHIFT_ROWS],
                "hours": [100.0, -1.0, -0.5, 9.25], "durations": True}
    with TestClient(flex.app) as client:
        assert _run(client, "show", model="shifts", ids=[1, 2, 3, 4]) == (
            200, {"result": expected})
        assert _run(client, "lengths", model="shift_lengths", ids=[1, 2, 3, 4]) == (
            200, {"result": [{"id": r["id"], "dur": r["dur"]} for r in SHIFT_ROWS]})
        response = client.post("/api/actions/shifts/show", headers=AUTH,
                               json={"ids": [1, 2, 3, 4]})
        assert (response.status_code, response.json()) == (200, {"result": expected})


def test_a_duration_the_body_sets_is_stored_and_answered_as_it_is(mariadb_url: str) -> None:
    """100 hours is stored as 100:00:00 and a negative duration with its sign, whether the body
    sets a parameter's value or one it computed; the row answers what was stored, and so does
    a dry run's list of changes."""
    flex = _shifts_flex(mariadb_url)

    @flex.action(model="shifts", for_instance=True, fields=["dur"])
    def set_length(row: Any, **values: Any) -> Any:
        row.dur = values["dur"]
        row.fine = dt.timedelta(seconds=row.dur.total_seconds() / 2)  # a plain timedelta
        return row

    with TestClient(flex.app) as client:
        for sent, stored, answered in (
                ("100:00:00", ("100:00:00", "50:00:00.000"), ("100:00:00", "50:00:00")),
                ("-00:30", ("-00:30:00", "-00:15:00.000"), ("-00:30:00", "-00:15:00")),
                ("-01:01:01", ("-01:01:01", "-00:30:30.500"),
                 ("-01:01:01", "-00:30:30.500000")),
                ("838:59:59", ("838:59:59", "419:29:59.500"),
                 ("838:59:59", "419:29:59.500000"))):
            assert _run(client, "set_length", model="shifts", id=1, params={"dur": sent}) == (
                200, {"result": {"id": 1, "dur": answered[0], "fine": answered[1]}})
            assert _stored_shift(mariadb_url) == stored
        assert _run(client, "set_length", model="shifts", id=1, params={"dur": "-838:59:59"},
                    dry_run=True)[1]["changes"]["shifts"]["rows"] == [{
                        "key": 1, "change": "updated", "columns": {
                            "dur": ["838:59:59", "-838:59:59"],
                            "fine": ["419:29:59.500000", "-419:29:59.500000"]}}]
    assert _stored_shift(mariadb_url) == ("838:59:59", "419:29:59.500")


def test_field_options_of_a_time_key_are_its_durations(mariadb_url: str) -> None:
    run_statements(mariadb_url, [
        "CREATE TABLE slots (length TIME PRIMARY KEY)",
        "INSERT INTO slots VALUES ('100:00:00'), ('-01:30:00'), ('10:00:00')",
        "CREATE TABLE rota (id INT PRIMARY KEY, length TIME,"
        " CONSTRAINT rota_length FOREIGN KEY (length) REFERENCES slots (length))",
    ])
    flex = Flex(mariadb_url, token=TOKEN, settings=Settings.from_env().with_(journal=False))

    with TestClient(flex.app) as client:
        def options(query: str) -> Any:
            response = client.post("/api/messages/", headers=AUTH, json={
                "name": "get_field_options",
                "params": {"model": "rota", "field": "length", "query": query}})
            return response.json()

        assert options("") == [{"value": text, "name": text}
                               for text in ("-01:30:00", "10:00:00", "100:00:00")]
        assert options("100") == [{"value": "100:00:00", "name": "100:00:00"}]
        assert options("-01:30") == [{"value": "-01:30:00", "name": "-01:30:00"}]
