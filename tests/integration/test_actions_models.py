"""Model-method actions on a user's declarative classes, and the statement count of big
selections."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flexorm.actions import action
from flexorm.flex import Flex
from flexorm.protocol.requests import ExecuteRequest
from flexorm.settings import Settings
from tests.integration._actions_shop import (
    CALLER,
    create_shop,
    make_flex,
    running,
    service,
    snapshot,
    statements,
)

pytestmark = pytest.mark.anyio


class Base(DeclarativeBase):
    pass


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column("status", sa.String(10))
    account_id: Mapped[int]
    total: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))

    @action
    def refund(self, reason: str = "") -> str:
        self.state = "refunded"
        return f"{type(self).__name__} {self.id}: {reason}"

    @action(for_instance=True, bulk=True)
    @classmethod
    def ship(cls, orders: list[Order]) -> list[str]:
        for order in orders:
            order.state = "shipped"
        return [type(order).__name__ for order in orders]

    @action
    @classmethod
    def total_value(cls) -> str:
        return cls.__name__


async def test_model_methods_run_on_instances_of_the_users_class(db_url):
    create_shop(db_url)
    flex = Flex(db_url, base=Base, settings=Settings(insecure=True, auto_upgrade=True))
    async with service(flex) as actions:
        descriptors = {d["name"]: d for d in actions.action_list()}
        refunded = await actions.execute(ExecuteRequest(
            "refund", model="orders", ids=(1,), params={"reason": "late"}), caller=CALLER)
        shipped = await actions.execute(ExecuteRequest("ship", model="orders", ids=(2, 3)),
                                        caller=CALLER)
        collection = await actions.execute(ExecuteRequest("total_value", model="orders"),
                                           caller=CALLER)
    assert descriptors["refund"]["model_action"] == {"model": "orders", "for_instance": True}
    assert descriptors["ship"]["model_action"] == {"model": "orders", "for_instance": True,
                                                   "bulk": True}
    assert descriptors["total_value"]["model_action"] == {"model": "orders"}
    assert refunded == {"result": "Order 1: late"}
    assert shipped == {"result": ["Order", "Order"]}
    assert collection == {"result": "Order"}
    assert [row[1] for row in snapshot(db_url, "orders")[:4]] == [
        "refunded", "shipped", "shipped", "new"]


async def test_user_model_rows_encode_by_column_name(sqlite_url):
    create_shop(sqlite_url)
    flex = Flex(sqlite_url, models=[Order], settings=Settings(insecure=True, auto_upgrade=True))

    @flex.action(model=Order, for_instance=True)
    def show(order: Order) -> Order:
        assert isinstance(order, Order)
        return order

    async with service(flex) as actions:
        answer = await actions.execute(ExecuteRequest("show", model="orders", ids=(1,)),
                                       caller=CALLER)
    assert answer == {"result": {"id": 1, "status": "new", "account_id": 1, "total": "10.00"}}


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_thousand_ids_load_in_one_query_per_chunk(db_url, kind):
    create_shop(db_url, orders=1000)
    flex = make_flex(db_url, chunk_size=100)

    def sync_ship(orders) -> int:
        return len(orders)

    async def async_ship(orders) -> int:
        return len(orders)

    flex.action(model="orders", for_instance=True, bulk=True, name="ship")(
        sync_ship if kind == "sync" else async_ship)
    ids = [str(i) for i in range(1000, 0, -1)]
    async with running(flex) as runtime:
        with statements(runtime) as seen:
            answer = await runtime.actions.execute(
                ExecuteRequest("ship", model="orders", ids=tuple(ids)), caller=CALLER)
    selects = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert answer == {"result": 1000}
    assert len(selects) == 10


async def test_inverse_selection_pages_by_key(db_url):
    create_shop(db_url, orders=250)
    flex = make_flex(db_url, chunk_size=100)

    @flex.action(model="orders", for_instance=True)
    def touch(order) -> int:
        order.carrier = "x"
        return order.id

    async with running(flex) as runtime:
        with statements(runtime) as seen:
            answer = await runtime.actions.execute(
                ExecuteRequest("touch", model="orders", ids=(5, 6), inverse=True), caller=CALLER)
    selects = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert answer["result"] == [i for i in range(1, 251) if i not in (5, 6)]
    assert len(selects) == 3
    assert sum(1 for row in snapshot(db_url, "orders") if row[5] == "x") == 248
