"""A third database with no code of its own in flexorm: MariaDB, end to end.

Reflection of MySQL's own types, the model descriptions over the CLI and HTTP, and actions run
through the endpoint with their transactions and journal, as on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from flexorm import ActionError, Flex, Settings
from flexorm.cli.inspect import inspect_command
from flexorm.migrations import upgrade
from flexorm.reflection import reflect_sync
from tests.conftest import NO_DATA_SOURCE, run_statements, sync_engine

pytestmark = pytest.mark.mariadb

TOKEN = "mariadb-test-key"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

SCHEMA = [
    "CREATE TABLE customers (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(80) NOT NULL, "
    "bio LONGTEXT, avatar MEDIUMBLOB, vip TINYINT(1) NOT NULL DEFAULT 0, born YEAR, "
    "tier VARCHAR(10), CONSTRAINT tier_allowed CHECK (tier IN ('gold', 'silver')))",
    "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, "
    "customer_id INT NOT NULL, "
    "status ENUM('new', 'paid', 'shipped') NOT NULL DEFAULT 'new', "
    "total DECIMAL(10, 2) NOT NULL, tags SET('gift', 'rush'), data JSON, "
    "created DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, "
    "CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id))",
    "INSERT INTO customers (email) VALUES ('a@example.com'), ('b@example.com')",
    "INSERT INTO orders (customer_id, total) VALUES (1, 10.50), (1, 20.00), (2, 30.25)",
]


@pytest.fixture
def shop(mariadb_url: str) -> str:
    run_statements(mariadb_url, SCHEMA)
    return mariadb_url


def orders(url: str) -> list[tuple[Any, ...]]:
    engine = sync_engine(url)
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.exec_driver_sql(
            "SELECT id, status, total FROM orders ORDER BY id")]
    engine.dispose()
    return rows


def build_flex(url: str, **settings: Any) -> Flex:
    flex = Flex(url, token=TOKEN, settings=Settings.from_env().with_(**settings))

    @flex.action(model="orders", for_instance=True, bulk=True, fields=["status"])
    def set_status(rows: list[Any], **values: Any) -> int:
        for row in rows:
            row.status = values["status"]
        return len(rows)

    @flex.action(model="orders", for_instance=True)
    def refund(order: Any, amount: Decimal) -> dict[str, Any]:
        order.total -= amount
        if order.total < 0:
            raise ActionError("refund exceeds the total")
        return {"id": order.id, "total": order.total}

    return flex


@pytest.fixture
def flex(shop: str) -> Flex:
    return build_flex(shop)


def execute(client: TestClient[Any], name: str, **params: Any) -> tuple[int, Any]:
    response = client.post("/api/messages/", headers=AUTH, json={
        "name": "execute_action", "params": {"model": "orders", "name": name, **params}})
    return response.status_code, response.json()


def test_mysql_types_reflect_as_jet_fields(shop: str, client: TestClient[Any]) -> None:
    result = CliRunner().invoke(inspect_command, [shop, "--json"],
                                env={"FLEXORM_INCLUDE": None, "FLEXORM_EXCLUDE": None})
    assert result.exit_code == 0, result.output
    described = json.loads(result.stdout)
    assert client.get("/api/model_descriptions/", headers=AUTH).json() == described
    models = {m["model"]: {f["name"]: f for f in m["fields"]} for m in described}

    def brief(model: str, name: str) -> tuple[Any, ...]:
        f = models[model][name]
        return f["field"], f["db_field"], f["required"], f.get("default_type")

    assert brief("customers", "id") == ("IntegerField", "IntegerField", False, "sequence")
    assert brief("customers", "email") == ("CharField", "CharField", True, None)
    assert brief("customers", "bio") == ("TextField", "TextField", False, None)
    assert brief("customers", "avatar") == ("BinaryField", "BinaryField", False, None)
    # BOOLEAN is TINYINT(1) to MySQL, a checkbox to its users; YEAR is a number
    assert brief("customers", "vip") == ("BooleanField", "BooleanField", False, "value")
    assert models["customers"]["vip"]["default_value"] is False
    assert brief("customers", "born") == ("IntegerField", "IntegerField", False, None)
    # a CHECK value list, as MariaDB reports it (backquoted), gives options as on SQLite
    assert brief("customers", "tier") == ("SelectField", "CharField", False, None)
    assert models["customers"]["tier"]["params"]["options"] == [
        {"name": "gold", "value": "gold"}, {"name": "silver", "value": "silver"}]
    assert brief("orders", "customer_id") == ("ForeignKey", "IntegerField", True, None)
    assert brief("orders", "total") == ("FloatField", "DecimalField", True, None)
    assert brief("orders", "created") == ("DateTimeField", "DateTimeField", False,
                                          "datetime_now")
    # MariaDB's JSON is LONGTEXT with a json_valid() check: JSON all the same
    assert brief("orders", "data")[:2] == ("JSONField", "JSONField")
    assert models["orders"]["status"] == {
        "name": "status", "db_column": "status", "field": "SelectField",
        "db_field": "SelectField", "filterable": True, "null": False, "editable": True,
        "required": False, "default_type": "value", "default_value": "new",
        "params": {"db_internal_type": "ENUM('new','paid','shipped')", "length": 7,
                   "options": [{"name": v, "value": v} for v in ("new", "paid", "shipped")]},
        **NO_DATA_SOURCE,
    }
    relations = {m["model"]: [r["name"] for r in m["relations"]] for m in described}
    assert relations == {"customers": ["orders__customer_id__to__id"],
                         "orders": ["customer_id__to__customers__id"]}


def test_actions_list_with_enum_options(client: TestClient[Any]) -> None:
    response = client.post("/api/messages/", headers=AUTH, json={"name": "get_action_list"})
    assert response.status_code == 200
    set_status = next(a for a in response.json() if a["name"] == "set_status")
    assert set_status["params"] == [{
        "name": "status", "field": "SelectField", "required": False,
        "params": {"options": [{"value": v, "name": v} for v in ("new", "paid", "shipped")]}}]


def test_bulk_action_commits(shop: str, client: TestClient[Any]) -> None:
    assert execute(client, "set_status", ids=[1, 3], params={"status": "paid"}) == (
        200, {"result": 2})
    assert [row[1] for row in orders(shop)] == ["paid", "new", "paid"]


def test_bad_input_leaves_the_database_untouched(shop: str, client: TestClient[Any]) -> None:
    before = orders(shop)
    assert execute(client, "set_status", ids=[1], params={"status": "lost"})[0] == 400
    assert execute(client, "set_status", ids=[1, 99], params={"status": "paid"}) == (
        400, {"ids": ["no orders record with id 99"]})
    assert execute(client, "set_status", ids=["1; DROP TABLE orders"],
                   params={"status": "paid"})[0] == 400
    assert orders(shop) == before


def test_a_failed_action_is_rolled_back(shop: str, client: TestClient[Any]) -> None:
    before = orders(shop)
    assert execute(client, "refund", id=1, params={"amount": "100"}) == (
        400, {"non_field_errors": ["refund exceeds the total"]})
    assert orders(shop) == before
    assert execute(client, "refund", id=1, params={"amount": "0.50"}) == (
        200, {"result": {"id": 1, "total": "10.00"}})
    assert orders(shop)[0] == (1, "new", Decimal("10.00"))


def test_the_journal_records_every_run(shop: str) -> None:
    upgrade(shop)
    with TestClient(build_flex(shop, journal=True).app) as client:
        assert execute(client, "set_status", ids=[2], params={"status": "shipped"})[0] == 200
        assert execute(client, "refund", id=3, params={"amount": "99"})[0] == 400
    engine = sync_engine(shop)
    with engine.connect() as conn:
        runs = conn.exec_driver_sql(
            "SELECT action, status, ids FROM flexorm_action_runs ORDER BY id").all()
    engine.dispose()
    assert [(action, status, json.loads(ids)) for action, status, ids in runs] == [
        ("set_status", "succeeded", [2]), ("refund", "failed", [3])]


def test_a_columns_own_check_list_gives_options(mariadb_url: str) -> None:
    """MariaDB prints a column's own CHECK inside its definition and escapes quotes with a
    backslash: the values are the ones written, as on PostgreSQL and SQLite."""
    run_statements(mariadb_url, [
        "CREATE TABLE switches (id INT PRIMARY KEY, "
        "state VARCHAR(10) CHECK (state IN ('on', 'off')), "
        r"label VARCHAR(10) CHECK (label IN ('it''s', 'a\\b', 'x,y', 'p\"q', '`q`')), "
        "level INT CHECK (level IN (1, 2, -3)), size VARCHAR(2) CHECK (size = 'S' OR size = 'M'), "
        "n INT CHECK (n > 0), "
        "`odd``name` VARCHAR(3) CHECK (`odd``name` IN ('k', 'l')))",
    ])
    flex = Flex(mariadb_url, token=TOKEN)

    @flex.action(model="switches", for_instance=True, fields=["state"])
    def switch(row: Any, state: str) -> str:
        row.state = state
        return state

    engine = sync_engine(mariadb_url)
    with engine.connect() as conn:
        schema = reflect_sync(conn, Settings())
    engine.dispose()
    options = {name: column.options for name, column in schema["switches"].columns.items()}
    assert options == {"id": None, "state": ("on", "off"),
                       "label": ("it's", "a\\b", "x,y", 'p"q', "`q`"), "level": (1, 2, -3),
                       "size": ("S", "M"), "n": None, "odd`name": ("k", "l")}
    with TestClient(flex.app) as client:
        listed = client.post("/api/messages/", headers=AUTH,
                             json={"name": "get_action_list"}).json()
    assert listed[0]["params"] == [{
        "name": "state", "field": "SelectField", "required": False,
        "params": {"options": [{"value": "on", "name": "on"}, {"value": "off", "name": "off"}]}}]


def test_text_a_latin1_column_cannot_hold_is_no_match_or_a_400(mariadb_url: str) -> None:
    """Comparing a latin1 column with text outside latin1 is an error in MariaDB (an illegal
    mix of collations): a search finds nothing, a key is refused, never a 500."""
    run_statements(mariadb_url, [
        "CREATE TABLE codes (code VARCHAR(10) PRIMARY KEY, name VARCHAR(20))"
        " CHARACTER SET latin1",
        "CREATE TABLE uses (id INT PRIMARY KEY, code VARCHAR(10) CHARACTER SET latin1,"
        " CONSTRAINT uses_code FOREIGN KEY (code) REFERENCES codes (code))"
        " CHARACTER SET latin1",
        "INSERT INTO codes VALUES ('A', 'alpha'), ('B', 'beta')",
    ])
    flex = Flex(mariadb_url, token=TOKEN)

    @flex.action(model="codes", for_instance=True)
    def touch(row: Any) -> str:
        return str(row.code)

    with TestClient(flex.app) as client:
        def message(params: dict[str, Any]) -> tuple[int, Any]:
            response = client.post("/api/messages/", headers=AUTH,
                                   json={"name": "get_field_options", "params": params})
            return response.status_code, response.json()

        assert message({"model": "uses", "field": "code", "query": "alp"}) == (
            200, [{"value": "A", "name": "alpha"}])
        assert message({"model": "uses", "field": "code", "query": "\U0001f600"}) == (200, [])
        response = client.post("/api/messages/", headers=AUTH, json={
            "name": "execute_action",
            "params": {"model": "codes", "name": "touch", "id": "\U0001f600"}})
        assert response.status_code == 400, response.text
