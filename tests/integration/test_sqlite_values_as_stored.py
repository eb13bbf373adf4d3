"""SQLite keeps any value in any column: a row whose value is not of its column's declared type
(``''`` in a ``NUMERIC`` column, a Unix time in a ``DATETIME`` one, text that is not JSON in a
``JSON`` one, anything in a ``STRICT`` table's ``ANY`` column) is read as stored, so that an
action on it runs, where reading it failed every action on that row with a 500. The column is
still described, and its values written, as its declared type."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from flexorm import Flex, Settings
from tests.conftest import run_statements, sync_engine

TOKEN = "as-stored-key"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

SCHEMA = [
    "CREATE TABLE imports (id INTEGER PRIMARY KEY, price NUMERIC(10, 2), sold DATETIME, "
    "day DATE, at TIME, meta JSON, seen INTEGER NOT NULL DEFAULT 0)",
    "INSERT INTO imports VALUES (1, '', 1700000000, 'n/a', '25:99', 'not json', 0)",
    "INSERT INTO imports VALUES (2, 12.5, '2020-01-02 03:04:05', '2020-01-02', '03:04:05', "
    "'{\"a\": 1}', 0)",
    "CREATE TABLE settings (k TEXT PRIMARY KEY, v ANY) STRICT",
    "INSERT INTO settings VALUES ('n', 1), ('s', 'text'), ('r', 2.5)",
]


@pytest.fixture
def client(sqlite_url: str) -> Iterator[TestClient[Any]]:
    run_statements(sqlite_url, SCHEMA)
    flex = Flex(sqlite_url, settings=Settings(tokens=(TOKEN,), journal=False))

    @flex.action(model="imports", for_instance=True)
    def look(row: Any) -> dict[str, Any]:
        row.seen += 1
        return {name: getattr(row, name) for name in ("price", "sold", "day", "at", "meta")}

    @flex.action(model="imports", for_instance=True)
    def reprice(row: Any, price: Decimal) -> str:
        row.price = price
        return str(row.price)

    @flex.action(model="settings", for_instance=True)
    def value(row: Any) -> Any:
        return row.v

    with TestClient(flex.app) as test_client:
        yield test_client


def _execute(client: TestClient[Any], model: str, name: str, id: Any,
             **params: Any) -> tuple[int, Any]:
    response = client.post("/api/messages/", headers=AUTH, json={
        "name": "execute_action",
        "params": {"model": model, "name": name, "id": id, "params": params}})
    return response.status_code, response.json()


def test_a_row_holding_values_of_other_types_is_read_as_stored(
        client: TestClient[Any], sqlite_url: str) -> None:
    assert _execute(client, "imports", "look", 1) == (200, {"result": {
        "price": "", "sold": 1700000000, "day": "n/a", "at": "25:99", "meta": "not json"}})
    engine = sync_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT seen FROM imports WHERE id = 1")).scalar_one() == 1
    engine.dispose()


def test_values_of_the_declared_type_are_read_and_written_as_that_type(
        client: TestClient[Any], sqlite_url: str) -> None:
    status, answer = _execute(client, "imports", "look", 2)
    assert status == 200
    assert answer["result"]["sold"].startswith("2020-01-02T03:04:05")
    assert answer["result"]["meta"] == {"a": 1}
    assert _execute(client, "imports", "reprice", 1, price="9.5") == (200, {"result": "9.5"})
    engine = sync_engine(sqlite_url)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT price, typeof(price) FROM imports "
                                      "WHERE id = 1")).one()
    engine.dispose()
    assert tuple(stored) == (9.5, "real")


def test_a_strict_tables_any_column_reads_each_value_as_stored(
        client: TestClient[Any]) -> None:
    answers = {key: _execute(client, "settings", "value", key) for key in ("n", "s", "r")}
    assert answers == {"n": (200, {"result": 1}), "s": (200, {"result": "text"}),
                       "r": (200, {"result": 2.5})}


def test_the_columns_are_described_by_their_declared_types(client: TestClient[Any]) -> None:
    response = client.get("/api/model_descriptions/", headers=AUTH)
    [imports] = [model for model in response.json() if model["model"] == "imports"]
    fields = {field["name"]: field["field"] for field in imports["fields"]}
    assert fields == {"id": "IntegerField", "price": "FloatField", "sold": "DateTimeField",
                      "day": "DateField", "at": "CharField", "meta": "JSONField",
                      "seen": "IntegerField"}
