"""Parameters end to end: foreign keys loading rows, column parameters, field options, policies,
and binding errors at startup."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import pytest
import sqlalchemy as sa

from flexorm.actions import ActionContext
from flexorm.exceptions import (
    ConfigurationError,
    PermissionDenied,
    RequestError,
    UnknownActionError,
    ValidationError,
)
from flexorm.protocol.requests import ExecuteRequest, FieldOptionsRequest
from tests.conftest import sync_engine
from tests.integration._actions_shop import CALLER, create_shop, make_flex, service, snapshot

pytestmark = pytest.mark.anyio


def transfer_flex(url):
    create_shop(url)
    flex = make_flex(url)
    Account = flex.model("accounts")

    @flex.action(model=["orders", "accounts"])
    def account_transfer(account_from: Account, amount_from: Decimal, account_to: Account,
                         amount_to: Decimal, description: str | None = None,
                         date: datetime | None = None, ctx: ActionContext = None) -> bool:
        assert ctx.params["account_from"] is account_from
        account_from.balance -= amount_from
        account_to.balance += amount_to
        return True

    return flex


async def test_foreign_key_parameters_receive_loaded_rows(db_url):
    flex = transfer_flex(db_url)
    async with service(flex) as actions:
        descriptors = actions.action_list()
        answer = await actions.execute(ExecuteRequest(
            "account_transfer", model="orders",
            params={"account_from": "1", "amount_from": "12.50", "account_to": 2,
                    "amount_to": 12.5, "description": "", "date": "2024-05-01T10:00:00Z"},
        ), caller=CALLER)
    assert [d["model_action"]["model"] for d in descriptors] == ["orders", "accounts"]
    assert answer == {"result": True}
    balances = [row[2] for row in snapshot(db_url, "accounts")]
    assert balances[:2] == [Decimal("87.50"), Decimal("62.50")]


async def test_unknown_related_id_is_a_field_error(db_url):
    flex = transfer_flex(db_url)
    before = snapshot(db_url, "accounts")
    async with service(flex) as actions:
        with pytest.raises(ValidationError) as info:
            await actions.execute(ExecuteRequest(
                "account_transfer", model="accounts",
                params={"account_from": 99, "amount_from": 1, "account_to": 98, "amount_to": 1},
            ), caller=CALLER)
    assert info.value.errors == {"account_from": ["no accounts record with id 99"],
                                 "account_to": ["no accounts record with id 98"]}
    assert snapshot(db_url, "accounts") == before


async def test_column_parameters_pass_values_ready_to_assign(db_url):
    create_shop(db_url)
    flex = make_flex(db_url)

    @flex.action(model="orders", for_instance=True, bulk=True,
                 fields=["status", "account_id", "shipped_at"])
    def set_status(orders, **values) -> dict:
        for order in orders:
            for name, value in values.items():
                setattr(order, name, value)
        return values

    @flex.action(model="orders", for_instance=True)
    def set_carrier(order, carrier: Annotated[str, flex.column("orders.carrier")]) -> None:
        order.carrier = carrier

    async with service(flex) as actions:
        params = {p["name"]: p for p in actions.action_list()[0]["params"]}
        answer = await actions.execute(ExecuteRequest(
            "set_status", model="orders", ids=(1, 2),
            params={"status": "shipped", "account_id": "2",
                    "shipped_at": "2024-05-01T10:00:00"}), caller=CALLER)
        with pytest.raises(ValidationError) as info:
            await actions.execute(ExecuteRequest(
                "set_status", model="orders", ids=(3,), params={"status": "lost"}),
                caller=CALLER)
        with pytest.raises(ValidationError) as too_long:
            await actions.execute(ExecuteRequest(
                "set_carrier", model="orders", ids=(3,), params={"carrier": "x" * 41}),
                caller=CALLER)
    assert "default" not in params["status"]  # never written over the records' values
    assert params["account_id"]["field"] == "ForeignKey"
    assert answer == {"result": {"status": "shipped", "account_id": 2,
                                 "shipped_at": "2024-05-01T10:00:00"}}
    assert [row[1:3] for row in snapshot(db_url, "orders")[:3]] == [
        ("shipped", 2), ("shipped", 2), ("new", 1)]
    assert info.value.errors == {
        "status": ["Select one of the options: new, shipped, refunded."],
        "account_id": ["This field is required."],  # NOT NULL without a default
    }
    assert list(too_long.value.errors) == ["carrier"]


async def test_field_options(db_url):
    flex = transfer_flex(db_url)

    @flex.action(options={"coupon": lambda query, form: [("SPRING", "Spring sale")]})
    async def apply(coupon: str, mode: str = "fast") -> None: ...

    async def sizes(query, form):
        return [{"value": 1, "name": "Small", "color": "red"}]

    @flex.action(model="orders", for_instance=True, options={"size": sizes},
                 fields=["status"])
    def resize(order, size: int, **values) -> None: ...

    def options(field, **kw):
        return actions.field_options(FieldOptionsRequest(field=field, **kw), caller=CALLER)

    async with service(flex) as actions:
        everyone = await options("account_from", action="account_transfer", model="orders")
        searched = await options("account_to", action="account_transfer", model="orders",
                                 query="AL")
        percent = await options("account_to", action="account_transfer", model="orders",
                                query="50%")
        underscore = await options("account_to", action="account_transfer", model="orders",
                                   query="_")
        by_id = await options("account_to", action="account_transfer", model="orders",
                              query="2")
        hooked = await options("coupon", action="apply")
        async_hooked = await options("size", action="resize", model="orders")
        statuses = await options("status", action="resize", model="orders", query="SHIP")
        column = await options("account_id", model="orders", query="bob")
        with pytest.raises(RequestError):
            await options("mode", action="apply")
        with pytest.raises(RequestError):
            await options("nope", action="apply")
        with pytest.raises(UnknownActionError):
            await options("mode", action="nope")
    assert everyone == [{"value": 3, "name": "50% off_shop"}, {"value": 1, "name": "alice"},
                        {"value": 2, "name": "bob"}]
    assert searched == [{"value": 1, "name": "alice"}]
    assert percent == [{"value": 3, "name": "50% off_shop"}]
    assert underscore == [{"value": 3, "name": "50% off_shop"}]
    assert by_id == [{"value": 2, "name": "bob"}]
    assert hooked == [{"value": "SPRING", "name": "Spring sale"}]
    assert async_hooked == [{"value": 1, "name": "Small", "color": "red"}]
    assert statuses == [{"value": "shipped", "name": "shipped"}]
    assert column == [{"value": 2, "name": "bob"}]


async def test_field_options_are_bounded(db_url):
    create_shop(db_url)
    engine = sync_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO accounts (name) VALUES (:n)"),
                     [{"n": f"user {i:03}"} for i in range(120)])
    engine.dispose()
    flex = make_flex(db_url)
    Account = flex.model("accounts")

    @flex.action()
    def pick(account: Account) -> None: ...

    async with service(flex) as actions:
        found = await actions.field_options(FieldOptionsRequest(field="account", action="pick"),
                                            caller=CALLER)
    assert len(found) == flex.settings.field_options_limit


async def test_allow_policy(db_url):
    create_shop(db_url)
    flex = make_flex(db_url)

    @flex.action(allow=lambda ctx: ctx.caller.user_id == "admin")
    def sync_guarded() -> str:
        return "ran"

    async def is_admin(ctx):
        return ctx.caller.user_id == "admin"

    @flex.action(allow=is_admin)
    async def async_guarded() -> str:
        return "ran"

    @flex.action(allow=is_admin)
    def sync_body_async_policy() -> str:
        return "ran"

    async with service(flex) as actions:
        for name in ("sync_guarded", "async_guarded", "sync_body_async_policy"):
            with pytest.raises(PermissionDenied, match=f"may not run the action '{name}'"):
                await actions.execute(ExecuteRequest(name), caller=CALLER)
            admin = type(CALLER)(kind="cli", user_id="admin")
            assert await actions.execute(ExecuteRequest(name), caller=admin) == {"result": "ran"}


@pytest.mark.parametrize(
    ("declare", "message"),
    [
        (lambda flex: flex.action(model="nope", name="a")(lambda: None),
         "unknown collection 'nope'"),
        (lambda flex: flex.action(model="orders", for_instance=True, bulk=True, name="b",
                                  fields=["nope"])(lambda orders, **v: None),
         "has no column 'nope'"),
    ],
)
async def test_binding_errors_stop_startup(sqlite_url, declare, message):
    create_shop(sqlite_url)
    flex = make_flex(sqlite_url)
    declare(flex)
    with pytest.raises(ConfigurationError, match=message):
        async with service(flex):
            pass


async def test_duplicate_actions_per_collection_stop_startup(sqlite_url):
    create_shop(sqlite_url)
    flex = make_flex(sqlite_url)

    def first() -> None: ...

    flex.action(model="orders", name="go")(first)
    flex.action(model="accounts", name="go")(first)
    async with service(flex) as actions:
        assert len(actions.action_list()) == 2
    flex.action(model="orders", name="go")(first)
    with pytest.raises(ConfigurationError, match="'go' is declared twice for collection 'orders'"):
        async with service(flex):
            pass


async def test_uuid_primary_keys(pg_url):
    engine = sync_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE tags (id UUID PRIMARY KEY, label TEXT NOT NULL)")
        conn.exec_driver_sql("INSERT INTO tags VALUES "
                             "('12345678-1234-5678-1234-567812345678', 'a')")
    engine.dispose()
    flex = make_flex(pg_url)

    @flex.action(model="tags", for_instance=True)
    def rename(tag, label: str) -> object:
        tag.label = label
        return tag.id

    async with service(flex) as actions:
        answer = await actions.execute(ExecuteRequest(
            "rename", model="tags", ids=("12345678-1234-5678-1234-567812345678",),
            params={"label": "b"}), caller=CALLER)
        with pytest.raises(ValidationError):
            await actions.execute(ExecuteRequest("rename", model="tags", ids=("nope",),
                                                 params={"label": "b"}), caller=CALLER)
    assert answer == {"result": "12345678-1234-5678-1234-567812345678"}
    assert snapshot(pg_url, "tags")[0][1] == "b"


@pytest.mark.postgres
async def test_column_comments_describe_generated_parameters(pg_url):
    engine = sync_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE notes (id serial PRIMARY KEY, body text, tag text)")
        conn.exec_driver_sql("COMMENT ON COLUMN notes.body IS 'what the note says'")
        # Jet Admin's display settings are not a description
        conn.exec_driver_sql("""COMMENT ON COLUMN notes.tag IS '{"name": "Tag"}'""")
    engine.dispose()
    flex = make_flex(pg_url)

    @flex.action(model="notes", for_instance=True, fields=["body", "tag"])
    def edit(note, **values) -> None:
        pass

    async with service(flex) as actions:
        [descriptor] = actions.action_list()
    params = {p["name"]: p for p in descriptor["params"]}
    assert params["body"].get("description") == "what the note says"
    assert "description" not in params["tag"]
