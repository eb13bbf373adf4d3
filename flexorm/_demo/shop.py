"""The demo shop: one action of each kind flexorm serves.

Run it with ``flexorm serve`` (no arguments): it creates ``flexorm-demo.db`` in the current
directory on first run, seeds it, creates flexorm's own tables in it (``auto_upgrade``: the
demo's database is the demo's own), and prints a token and a ``curl`` to try.

=======================  ===========================================================
action                   kind
=======================  ===========================================================
mail_users               bulk, on selected users (one call for all of them)
refresh_users_status     collection action on users (no records selected)
account_transfer         collection action on income and outcome; ForeignKey params
refund                   per record, on orders
mark_shipped             bulk on orders, async, a Literal as a select
set_status               bulk on orders, parameters generated from columns
sales_report             a common action, tied to no collection
reprice_products         bulk on products, in the background, with progress
=======================  ===========================================================
"""

# flex.model("accounts") is a value used as a parameter type: flexorm reads it at runtime, mypy
# cannot, and sees no attributes on such a row.
# mypy: disable-error-code="valid-type,attr-defined"

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from litestar import Litestar
from pydantic import Field
from sqlalchemy.orm import Session

from flexorm import ActionContext, ActionError, Flex, Settings, Text
from flexorm._demo.schema import INCOME, ORDERS, OUTCOME, USERS, create_database

__all__ = ["app", "flex"]

# relative to the current directory; the demo creates its database and flexorm's tables in it
# (its background action needs them: the journal is on whatever the environment says)
flex = Flex("sqlite:///flexorm-demo.db",
            settings=Settings.from_env(auto_upgrade=True, journal=True))
Account = flex.model("accounts")  # a parameter of this type is a ForeignKey to accounts

Carrier = Literal["UPS", "DHL", "FedEx"]  # a SelectField with these three options
# DecimalFields; a value out of range, or with more places than the columns keep, is refused
# with a 400 before anything runs
Percent = Annotated[Decimal, Field(gt=-100, le=1000)]
Money = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
Days = Annotated[int, Field(ge=1, le=36500)]


@flex.action(model="users", for_instance=True, bulk=True)
async def mail_users(users: list[Any], subject: str, message: Text | None = None) -> dict[str, int]:
    """Mail the selected users (the demo only records when it did)."""
    now = datetime.now(UTC)
    for user in users:
        user.last_mailed_at = now
    return {"mailed": len(users)}


@flex.action(model="users")
def refresh_users_status(ctx: ActionContext) -> int:
    """Active users not seen for 90 days become inactive; answers how many changed."""
    session = ctx.session
    assert isinstance(session, Session)  # a sync body gets a blocking session
    cutoff = datetime.now(UTC) - timedelta(days=90)
    changed = session.execute(
        sa.update(USERS)
        .where(USERS.c.status == "active", USERS.c.last_seen_at < cutoff)
        .values(status="inactive")
    )
    return int(changed.rowcount)


@flex.action(model=["income", "outcome"], label="Transfer between accounts")
def account_transfer(
    account_from: Account,
    amount_from: Money,
    account_to: Account,
    amount_to: Money,
    ctx: ActionContext,
    description: Text | None = None,
    date: datetime | None = None,
) -> bool:
    """Move money between two accounts, writing the outcome and income rows.

    Everything happens in the action's transaction: if anything fails, nothing is written.
    """
    if account_from.id == account_to.id:
        raise ActionError("choose two different accounts")
    if account_from.balance < amount_from:
        raise ActionError(
            f"insufficient funds: {account_from.name} holds {account_from.balance}, "
            f"{amount_from} requested"
        )
    session = ctx.session
    assert isinstance(session, Session)
    account_from.balance -= amount_from
    account_to.balance += amount_to
    when = date or datetime.now(UTC)
    text = description or f"transfer from {account_from.name} to {account_to.name}"
    session.execute(sa.insert(OUTCOME).values(
        account_id=account_from.id, amount=amount_from, description=text, date=when))
    session.execute(sa.insert(INCOME).values(
        account_id=account_to.id, amount=amount_to, description=text, date=when))
    return True


@flex.action(model="orders", for_instance=True)
def refund(order: Any, amount: Money, reason: str = "") -> dict[str, Any]:
    """Refund part or all of a paid order (called once per selected order)."""
    if order.status not in ("paid", "shipped", "delivered"):
        raise ActionError(f"order {order.id} is {order.status}: only paid orders are refunded")
    left = order.total - order.refunded
    if amount > left:
        raise ActionError(f"order {order.id}: refund between 0.01 and {left}")
    order.refunded += amount
    if order.refunded == order.total:
        order.status = "refunded"
    return {"order": order.id, "refunded": order.refunded, "status": order.status,
            "reason": reason}


@flex.action(model="orders", for_instance=True, bulk=True)
async def mark_shipped(orders: list[Any], carrier: Carrier,
                       shipped_at: datetime | None = None) -> int:
    """Ship the selected paid orders with one carrier."""
    unpaid = [order.id for order in orders if order.status != "paid"]
    if unpaid:
        raise ActionError(f"only paid orders can be shipped; not paid: {unpaid}")
    when = shipped_at or datetime.now(UTC)
    for order in orders:
        order.status, order.carrier, order.shipped_at = "shipped", carrier, when
    return len(orders)


@flex.action(model="orders", for_instance=True, bulk=True, fields=["status"])
def set_status(orders: list[Any], **values: Any) -> int:
    """Set the status column of the selected orders (a select of the column's CHECK list)."""
    for order in orders:
        for column, value in values.items():
            setattr(order, column, value)
    return len(orders)


@flex.action()
def sales_report(ctx: ActionContext, days: Days = 30) -> dict[str, Any]:
    """Orders and revenue of the last ``days`` days, by status."""
    session = ctx.session
    assert isinstance(session, Session)
    since = datetime.now(UTC) - timedelta(days=days)
    rows = session.execute(
        sa.select(ORDERS.c.status, sa.func.count(), sa.func.sum(ORDERS.c.total))
        .where(ORDERS.c.created_at >= since)
        .group_by(ORDERS.c.status)
        .order_by(ORDERS.c.status)
    )
    return {"days": days,
            "by_status": {status: {"orders": count, "revenue": total}
                          for status, count, total in rows}}


@flex.action(model="products", for_instance=True, bulk=True, background=True,
             deadline=timedelta(minutes=10), expires_after=timedelta(hours=1))
def reprice_products(products: list[Any], ctx: ActionContext, percent: Percent) -> int:
    """Change the selected products' prices by ``percent``. It runs in the background: the
    answer is a run id, and the journal shows the run's progress and result."""
    factor = 1 + percent / 100
    for done, product in enumerate(products, start=1):
        product.price = (product.price * factor).quantize(Decimal("0.01"), ROUND_HALF_UP)
        ctx.progress(done, len(products), f"{product.sku} now costs {product.price}")
    return len(products)


@contextlib.asynccontextmanager
async def _create_on_first_run(_: Litestar) -> AsyncIterator[None]:
    # Listed before flexorm's own lifespan, so the tables exist when flexorm reflects them.
    await asyncio.to_thread(create_database, flex.settings.database_url or "")
    yield


app = Litestar(plugins=[flex], lifespan=[_create_on_first_run])
