"""A small schema and a ``Flex`` with one action of each kind, for the server tests."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from flexorm import ActionContext, ActionError, Flex, Settings
from tests.conftest import sync_engine

TOKEN = "test-key-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

METADATA = sa.MetaData()
ORDERS = sa.Table(
    "orders", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("total", sa.Numeric(10, 2), nullable=False),
    sa.Column("note", sa.Text),
    sa.CheckConstraint("status IN ('new', 'paid', 'shipped')", name="status_allowed"),
)


def create_schema(url: str, rows: int = 5) -> None:
    engine = sync_engine(url)
    METADATA.create_all(engine)
    with engine.begin() as conn:
        conn.execute(ORDERS.insert(), [
            {"id": i, "status": "paid" if i % 2 else "new", "total": Decimal(f"{i}0.50")}
            for i in range(1, rows + 1)
        ])
    engine.dispose()


def snapshot(url: str) -> list[tuple[Any, ...]]:
    """Every row of orders, in id order: compared before and after a request."""
    engine = sync_engine(url)
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(sa.select(ORDERS).order_by(ORDERS.c.id))]
    engine.dispose()
    return rows


def build_flex(url: str, *, changes: dict[str, Any] | None = None, **options: Any) -> Flex:
    """The test app's ``Flex``: ``changes`` are settings over the environment's (a shared key
    ``TOKEN`` unless they say otherwise), ``options`` keyword arguments of ``Flex``."""
    settings = Settings.from_env().with_(**{"tokens": (TOKEN,), **(changes or {})})
    flex = Flex(url, settings=settings, **options)

    @flex.action(model="orders", for_instance=True, bulk=True)
    def ship(orders: list[Any], carrier: str) -> int:
        for order in orders:
            order.status = "shipped"
            order.note = carrier
        return len(orders)

    @flex.action(model="orders", for_instance=True)
    def refund(order: Any, amount: Decimal, reason: str = "") -> dict[str, Any]:
        return {"id": order.id, "amount": amount, "reason": reason}

    @flex.action(model="orders")
    async def count_orders(ctx: ActionContext) -> int:
        result = await ctx.session.execute(sa.select(sa.func.count()).select_from(ORDERS))
        return int(result.scalar_one())

    @flex.action()
    def ping() -> None:
        return None

    @flex.action(model="orders", for_instance=True, bulk=True)
    def explode(orders: list[Any]) -> None:
        for order in orders:
            order.status = "new"
            order.note = "half-written"
        raise RuntimeError("boom: password=hunter2")

    @flex.action(model="orders", for_instance=True, bulk=True)
    def refuse(orders: list[Any]) -> None:
        for order in orders:
            order.note = "half-written"
        raise ActionError("orders cannot be refused today")

    return flex


def execute(params: dict[str, Any]) -> dict[str, Any]:
    return {"name": "execute_action", "params": params}


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def server_logs() -> Iterator[list[logging.LogRecord]]:
    """The records of the ``flexorm.server`` logger while the block runs.

    A handler of its own: Litestar configures logging when an app starts, which can detach
    pytest's capture handler.
    """
    handler = _Records()
    logger = logging.getLogger("flexorm.server")
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
