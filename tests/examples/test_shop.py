"""The demo shop end to end over HTTP, on SQLite, PostgreSQL and MariaDB: every example action."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from flexorm._demo import shop
from flexorm._demo.schema import (
    ACCOUNTS,
    INCOME,
    ORDERS,
    OUTCOME,
    PRODUCTS,
    USERS,
    create_database,
)
from flexorm.plugin import FlexormPlugin
from flexorm.runtime import RuntimeHost
from tests.conftest import sync_engine

AUTH = {"Authorization": "Bearer demo-key"}


@pytest.fixture
def shop_url(any_url: str) -> str:
    return any_url


@pytest.fixture
def client(shop_url: str) -> Iterator[TestClient]:
    # the demo's actions, served on this database (the demo's own settings are read-only); the
    # server runs background actions itself, as the demo on SQLite does, on PostgreSQL too
    settings = shop.flex.settings.with_(database_url=shop_url, tokens=("demo-key",),
                                        background_runner="embedded")
    host = RuntimeHost(settings, shop.flex.declarations, shop.flex.models)
    create_database(shop_url)  # what the demo's lifespan does on first run
    with TestClient(FlexormPlugin(host).app) as test_client:
        yield test_client


def call(client: TestClient, **params: Any) -> tuple[int, Any]:
    response = client.post("/api/messages/", json={"name": "execute_action", "params": params},
                           headers=AUTH)
    return response.status_code, response.json()


def rows(url: str, table: sa.Table) -> list[dict[str, Any]]:
    engine = sync_engine(url)
    with engine.connect() as conn:
        result = [dict(r._mapping) for r in conn.execute(sa.select(table).order_by(table.c.id))]
    engine.dispose()
    return result


def test_created_and_seeded_once(shop_url):
    assert create_database(shop_url) is True
    assert create_database(shop_url) is False
    assert len(rows(shop_url, USERS)) == 12
    assert len(rows(shop_url, ORDERS)) == 24


def test_action_list(client):
    response = client.post("/api/messages/", json={"name": "get_action_list"}, headers=AUTH)
    listed = {(a["name"], a.get("model_action", {}).get("model")): a for a in response.json()}
    assert set(listed) == {
        ("mail_users", "users"), ("refresh_users_status", "users"),
        ("account_transfer", "income"), ("account_transfer", "outcome"),
        ("refund", "orders"), ("mark_shipped", "orders"), ("set_status", "orders"),
        ("sales_report", None), ("reprice_products", "products"), ("flexorm_run_status", None),
        ("flexorm_cancel_run", None),
    }
    assert listed["mail_users", "users"]["model_action"] == {
        "model": "users", "for_instance": True, "bulk": True}
    assert listed["refresh_users_status", "users"]["model_action"] == {"model": "users"}
    transfer = {p["name"]: p for p in listed["account_transfer", "income"]["params"]}
    assert transfer["account_from"]["field"] == "ForeignKey"
    assert transfer["account_from"]["params"]["related_model"] == {"model": "accounts"}
    assert transfer["amount_from"]["field"] == "DecimalField"
    assert transfer["description"]["field"] == "TextField"
    assert transfer["description"]["required"] is False
    assert transfer["date"]["field"] == "DateTimeField"
    (status,) = listed["set_status", "orders"]["params"]
    assert status["field"] == "SelectField"
    assert [o["value"] for o in status["params"]["options"]] == [
        "new", "paid", "shipped", "delivered", "cancelled", "refunded"]


def test_mail_users(client, shop_url):
    assert call(client, model="users", name="mail_users", ids=[1, 2],
                params={"subject": "Hello"}) == (200, {"result": {"mailed": 2}})
    mailed = [u["last_mailed_at"] is not None for u in rows(shop_url, USERS)]
    assert mailed[:3] == [True, True, False]


def test_refresh_users_status(client, shop_url):
    # The seed leaves exactly one active user unseen for 150 days: user 4.
    assert call(client, model="users", name="refresh_users_status") == (200, {"result": 1})
    assert rows(shop_url, USERS)[3]["status"] == "inactive"
    assert call(client, model="users", name="refresh_users_status") == (200, {"result": 0})


def test_account_transfer_moves_money(client, shop_url):
    status, body = call(client, model="income", name="account_transfer", params={
        "account_from": 1, "amount_from": "100.50", "account_to": 3, "amount_to": 100.5,
        "description": "budget", "date": "2024-05-01T10:00:00+02:00"})
    assert (status, body) == (200, {"result": True})
    balances = {a["id"]: a["balance"] for a in rows(shop_url, ACCOUNTS)}
    assert balances[1] == Decimal("4899.50")
    assert balances[3] == Decimal("900.50")
    assert rows(shop_url, OUTCOME)[-1]["description"] == "budget"
    assert rows(shop_url, INCOME)[-1]["amount"] == Decimal("100.50")


def test_account_transfer_refuses_overdraft_and_writes_nothing(client, shop_url):
    before = [rows(shop_url, t) for t in (ACCOUNTS, INCOME, OUTCOME)]
    assert call(client, model="outcome", name="account_transfer", params={
        "account_from": 4, "amount_from": "1000", "account_to": 1, "amount_to": "1000"}) == (
        400, {"non_field_errors": ["insufficient funds: Petty cash holds 150.00, 1000 requested"]})
    assert [rows(shop_url, t) for t in (ACCOUNTS, INCOME, OUTCOME)] == before


@pytest.mark.parametrize("amount", ["0.005", "1e-30", "0", "-5", "10000000000"])
def test_account_transfer_refuses_amounts_the_ledger_cannot_hold(client, shop_url, amount):
    # sub-cent amounts would be rounded by the database, creating money on one side
    before = [rows(shop_url, t) for t in (ACCOUNTS, INCOME, OUTCOME)]
    status, body = call(client, model="income", name="account_transfer", params={
        "account_from": 1, "amount_from": amount, "account_to": 3, "amount_to": amount})
    assert (status, sorted(body)) == (400, ["amount_from", "amount_to"])
    assert [rows(shop_url, t) for t in (ACCOUNTS, INCOME, OUTCOME)] == before


def test_account_transfer_unknown_account_is_a_field_error(client, shop_url):
    status, body = call(client, model="income", name="account_transfer", params={
        "account_from": 99, "amount_from": "1", "account_to": 1, "amount_to": "1"})
    assert status == 400
    assert list(body) == ["account_from"]


def test_refund(client, shop_url):
    order = rows(shop_url, ORDERS)[0]  # order 1 is paid
    status, body = call(client, model="orders", name="refund", id=1,
                        params={"amount": str(order["total"]), "reason": "broken"})
    assert status == 200
    assert body["result"]["status"] == "refunded"
    assert rows(shop_url, ORDERS)[0]["refunded"] == order["total"]
    assert call(client, model="orders", name="refund", id=1, params={"amount": "1"}) == (
        400, {"non_field_errors": ["order 1 is refunded: only paid orders are refunded"]})


def test_mark_shipped(client, shop_url):
    assert call(client, model="orders", name="mark_shipped", ids="1,5",
                params={"carrier": "DHL"}) == (200, {"result": 2})
    shipped = {o["id"]: (o["status"], o["carrier"]) for o in rows(shop_url, ORDERS)}
    assert shipped[1] == shipped[5] == ("shipped", "DHL")
    status, body = call(client, model="orders", name="mark_shipped", ids=[2],
                        params={"carrier": "Pigeon"})
    assert status == 400
    assert list(body) == ["carrier"]


def test_set_status_checks_the_column_options(client, shop_url):
    assert call(client, model="orders", name="set_status", ids=[1, 2, 3],
                params={"status": "cancelled"}) == (200, {"result": 3})
    assert [o["status"] for o in rows(shop_url, ORDERS)[:3]] == ["cancelled"] * 3
    status, body = call(client, model="orders", name="set_status", ids=[4],
                        params={"status": "lost"})
    assert status == 400
    assert list(body) == ["status"]


def test_sales_report(client):
    status, body = call(client, name="sales_report", params={"days": 400})
    assert status == 200
    report = body["result"]["by_status"]
    assert sum(entry["orders"] for entry in report.values()) == 24


@pytest.mark.parametrize("days", [0, 100_000_000])
def test_sales_report_refuses_a_period_out_of_range(client, days):
    status, body = call(client, name="sales_report", params={"days": days})
    assert (status, list(body)) == (400, ["days"])


def test_field_options_for_a_foreign_key(client):
    response = client.post("/api/messages/", json={"name": "get_field_options", "params": {
        "action": "account_transfer", "model": "income", "field": "account_to"}}, headers=AUTH)
    assert response.status_code == 200
    assert {o["value"] for o in response.json()} == {1, 2, 3, 4}


def finished_run(client: TestClient, run_id: str) -> dict[str, Any]:
    """The run once it has ended (the server runs it meanwhile), as flexorm_run_status shows
    it to Jet Admin."""
    for _ in range(600):
        status, body = call(client, name="flexorm_run_status", params={"run": run_id})
        assert status == 200, body
        if body["result"]["status"] not in ("queued", "running"):
            return dict(body["result"])
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} is still {body['result']['status']}")


def test_reprice_products_runs_in_the_background_with_progress(client, shop_url):
    before = {p["id"]: p["price"] for p in rows(shop_url, PRODUCTS)}  # 29.90, 19.50, 7.25
    status, body = call(client, model="products", name="reprice_products", ids=[1, 2, 3],
                        params={"percent": "10"})
    assert (status, body["result"]["status"]) == (200, "queued")
    run = finished_run(client, body["result"]["run"])
    assert (run["status"], run["result"], run["error"]) == ("succeeded", 3, None)
    assert run["progress"] == {"done": 3, "total": 3, "message": "SKU-003 now costs 7.98"}
    after = {p["id"]: p["price"] for p in rows(shop_url, PRODUCTS)}
    assert [after[i] for i in (1, 2, 3)] == [Decimal("32.89"), Decimal("21.45"),
                                             Decimal("7.98")]
    assert {i: after[i] for i in range(4, 9)} == {i: before[i] for i in range(4, 9)}


@pytest.mark.parametrize("percent", ["-100", "1000.5", "ten"])
def test_reprice_products_refuses_a_percent_out_of_range_before_queuing(client, shop_url,
                                                                         percent):
    before = rows(shop_url, PRODUCTS)
    status, body = call(client, model="products", name="reprice_products", ids=[1],
                        params={"percent": percent})
    assert (status, list(body)) == (400, ["percent"])
    assert rows(shop_url, PRODUCTS) == before
