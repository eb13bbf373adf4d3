"""execute_action through ActionService on SQLite and PostgreSQL: request shapes, missing ids,
transactions, errors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from flexorm.actions import ActionContext
from flexorm.exceptions import ActionError, RequestError, UnknownActionError, ValidationError
from flexorm.protocol.requests import ExecuteRequest
from tests.integration._actions_shop import CALLER, create_shop, make_flex, service, snapshot

pytestmark = pytest.mark.anyio


def shop_flex(url: str, **options):
    create_shop(url)
    flex = make_flex(url, **options)
    seen: list = []

    @flex.action(model="orders", for_instance=True, bulk=True)
    async def ship(orders, carrier: str) -> list[int]:
        for order in orders:
            order.status = "shipped"
            order.carrier = carrier
        return [order.id for order in orders]

    @flex.action(model="orders", for_instance=True)
    def refund(order, reason: str = "") -> dict:
        seen.append(order.id)
        order.status = "refunded"
        return {"id": order.id, "reason": reason}

    @flex.action(model="orders")
    def count_orders(ctx: ActionContext) -> str | None:
        assert isinstance(ctx.session, Session)
        return ctx.collection.name if ctx.collection else None

    @flex.action()
    async def ping(ctx: ActionContext) -> None:
        assert isinstance(ctx.session, AsyncSession)
        assert ctx.caller is CALLER
        assert ctx.action == "ping"

    return flex, seen


async def test_bulk_action_gets_rows_in_request_order_and_commits(db_url):
    flex, _ = shop_flex(db_url)
    async with service(flex) as actions:
        answer = await actions.execute(
            ExecuteRequest("ship", model="orders", ids=("3", 1, 2, 1), params={"carrier": "ups"}),
            caller=CALLER,
        )
    assert answer == {"result": [3, 1, 2]}
    rows = {row[0]: row for row in snapshot(db_url, "orders")}
    assert [rows[i][1] for i in (1, 2, 3, 4)] == ["shipped", "shipped", "shipped", "new"]
    assert rows[1][5] == "ups"


async def test_single_record_answers_its_result(db_url):
    flex, seen = shop_flex(db_url)
    async with service(flex) as actions:
        answer = await actions.execute(
            ExecuteRequest("refund", model="orders", ids=(2,), single=True,
                           params={"reason": "late"}), caller=CALLER)
        several = await actions.execute(
            ExecuteRequest("refund", model="orders", ids=(4, 5)), caller=CALLER)
    assert answer == {"result": {"id": 2, "reason": "late"}}
    assert several == {"result": [{"id": 4, "reason": ""}, {"id": 5, "reason": ""}]}
    assert seen == [2, 4, 5]
    assert [row[1] for row in snapshot(db_url, "orders")] == [
        "new", "refunded", "new", "refunded", "refunded"]


async def test_inverse_selection_runs_on_every_other_row_in_chunks(db_url):
    flex, seen = shop_flex(db_url, chunk_size=2)
    async with service(flex) as actions:
        bulk = await actions.execute(
            ExecuteRequest("ship", model="orders", ids=(2,), inverse=True,
                           params={"carrier": "dhl"}), caller=CALLER)
        each = await actions.execute(
            ExecuteRequest("refund", model="orders", ids=("1", "5"), inverse=True),
            caller=CALLER)
    assert bulk == {"result": [1, 3, 4, 5]}
    assert seen == [2, 3, 4]
    assert each["result"] == [{"id": i, "reason": ""} for i in (2, 3, 4)]


async def test_inverse_without_ids_selects_everything(db_url):
    flex, _ = shop_flex(db_url, chunk_size=3)
    async with service(flex) as actions:
        answer = await actions.execute(
            ExecuteRequest("ship", model="orders", inverse=True, params={"carrier": "x"}),
            caller=CALLER)
    assert answer == {"result": [1, 2, 3, 4, 5]}


async def test_missing_ids_are_reported_and_the_body_does_not_run(db_url):
    flex, seen = shop_flex(db_url)
    before = snapshot(db_url, "orders")
    async with service(flex) as actions:
        with pytest.raises(ValidationError) as info:
            await actions.execute(ExecuteRequest("refund", model="orders", ids=(1, 7, 2, 9)),
                                  caller=CALLER)
    assert info.value.errors == {"ids": ["no orders record with id 7, 9"]}
    assert seen == []
    assert snapshot(db_url, "orders") == before


@pytest.mark.parametrize("bad", ["abc", "1; DROP TABLE orders", "1 OR 1=1", True, "9" * 5000])
async def test_ids_that_do_not_fit_the_key_are_400s(db_url, bad):
    flex, seen = shop_flex(db_url)
    async with service(flex) as actions:
        with pytest.raises(ValidationError) as info:
            await actions.execute(ExecuteRequest("refund", model="orders", ids=(1, bad)),
                                  caller=CALLER)
    assert list(info.value.errors) == ["ids"]
    assert "not a valid orders id" in info.value.errors["ids"][0]
    assert seen == []


async def test_record_actions_need_ids_other_actions_ignore_them(db_url):
    flex, _ = shop_flex(db_url)
    async with service(flex) as actions:
        with pytest.raises(RequestError) as info:
            await actions.execute(ExecuteRequest("refund", model="orders"), caller=CALLER)
        assert info.value.field == "ids"
        with pytest.raises(RequestError):
            await actions.execute(ExecuteRequest("refund", model="orders", ids=()),
                                  caller=CALLER)
        counted = await actions.execute(ExecuteRequest("count_orders", model="orders",
                                                       ids=(1, 2)), caller=CALLER)
        pinged = await actions.execute(ExecuteRequest("ping", ids=("junk",)), caller=CALLER)
    assert counted == {"result": "orders"}
    assert pinged == {"result": True}


async def test_unknown_actions_and_models(db_url):
    flex, _ = shop_flex(db_url)
    async with service(flex) as actions:
        with pytest.raises(UnknownActionError, match="unknown action 'nope'"):
            await actions.execute(ExecuteRequest("nope"), caller=CALLER)
        with pytest.raises(UnknownActionError, match="does not run on collection 'accounts'"):
            await actions.execute(ExecuteRequest("refund", model="accounts", ids=(1,)),
                                  caller=CALLER)
        # the legacy shape names no model: the only collection of that name is used
        legacy = await actions.execute(ExecuteRequest("refund", ids=(1,)), caller=CALLER)
        # a common action answers whatever model the client names
        common = await actions.execute(ExecuteRequest("ping", model="orders"), caller=CALLER)
    assert legacy == {"result": {"id": 1, "reason": ""}}
    assert common == {"result": True}


async def test_invalid_parameters_and_ids_are_reported_together(db_url):
    flex, _ = shop_flex(db_url)
    async with service(flex) as actions:
        with pytest.raises(ValidationError) as info:
            await actions.execute(
                ExecuteRequest("ship", model="orders", ids=("x",),
                               params={"carrier": "a\x00b", "extra": 1}), caller=CALLER)
    assert set(info.value.errors) == {"carrier", "extra", "ids"}


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("error", [RuntimeError("boom"), ActionError("already refunded")])
async def test_a_failing_body_leaves_nothing_written(db_url, kind, error):
    create_shop(db_url)
    flex = make_flex(db_url)

    def sync_body(orders, ctx: ActionContext) -> None:
        for order in orders:
            order.status = "refunded"
        ctx.session.flush()
        raise error

    async def async_body(orders, ctx: ActionContext) -> None:
        for order in orders:
            order.status = "refunded"
        await ctx.session.flush()
        raise error

    flex.action(model="orders", for_instance=True, bulk=True, name="fail")(
        sync_body if kind == "sync" else async_body)
    before = (snapshot(db_url, "orders"), snapshot(db_url, "accounts"))
    async with service(flex) as actions:
        with pytest.raises(type(error), match=str(error)):
            await actions.execute(ExecuteRequest("fail", model="orders", ids=(1, 2, 3)),
                                  caller=CALLER)
    assert (snapshot(db_url, "orders"), snapshot(db_url, "accounts")) == before


async def test_one_failing_record_rolls_back_the_others(db_url):
    create_shop(db_url)
    flex = make_flex(db_url)

    @flex.action(model="orders", for_instance=True)
    def refund(order) -> None:
        if order.id == 3:
            raise ActionError(f"order {order.id} cannot be refunded")
        order.status = "refunded"

    before = snapshot(db_url, "orders")
    async with service(flex) as actions:
        with pytest.raises(ActionError, match="order 3 cannot be refunded"):
            await actions.execute(ExecuteRequest("refund", model="orders", ids=(1, 2, 3)),
                                  caller=CALLER)
    assert snapshot(db_url, "orders") == before


async def test_unencodable_result_is_a_type_error_and_rolls_back(db_url):
    create_shop(db_url)
    flex = make_flex(db_url)

    @flex.action(model="orders", for_instance=True)
    def odd(order) -> object:
        order.status = "refunded"
        return object()

    before = snapshot(db_url, "orders")
    async with service(flex) as actions:
        with pytest.raises(TypeError):
            await actions.execute(ExecuteRequest("odd", model="orders", ids=(1,)), caller=CALLER)
    assert snapshot(db_url, "orders") == before


async def test_rows_encode_with_their_columns(db_url):
    create_shop(db_url)
    flex = make_flex(db_url)

    @flex.action(model="orders", for_instance=True)
    def show(order) -> object:
        assert getattr(order, "unit price") is None
        assert repr(order) == f"<orders id={order.id}>"
        assert order.to_dict()["total"] == Decimal("10.00")
        return order

    async with service(flex) as actions:
        answer = await actions.execute(ExecuteRequest("show", model="orders", ids=(1,)),
                                       caller=CALLER)
    assert answer["result"]["total"] == "10.00"
    assert answer["result"]["unit price"] is None
    assert answer["result"]["status"] == "new"


async def test_string_primary_keys(db_url):
    create_shop(db_url)
    flex = make_flex(db_url)

    @flex.action(model="coupons", for_instance=True, bulk=True)
    def bump(coupons) -> list[str]:
        for coupon in coupons:
            coupon.percent += 1
        return [coupon.code for coupon in coupons]

    async with service(flex) as actions:
        answer = await actions.execute(ExecuteRequest("bump", model="coupons",
                                                      ids=("x,y", "SPRING")), caller=CALLER)
    assert answer == {"result": ["x,y", "SPRING"]}
    assert snapshot(db_url, "coupons") == [("SPRING", 11), ("x,y", 6)]
