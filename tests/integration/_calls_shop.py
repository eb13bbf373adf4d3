"""A shop whose actions cover every kind of input, for the MCP and HTTP operation tests."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import Field

from flexorm import ActionContext, ActionError, Flex, Param, Settings
from flexorm.journal import JournalStore, RunEntry
from tests._jet_tokens import PROJECT, key_pair
from tests.conftest import sync_engine

TOKEN = "calls-secret-key"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def jwt_auth(**flags: Any) -> dict[str, str]:
    """Jet Admin's ``Authorization: JWT`` for user 7 (``read_only=True``...)."""
    return {"Authorization": f"JWT {key_pair().token(7, **flags)}"}


class Carrier(enum.Enum):
    UPS = "ups"
    DHL = "dhl"


def create_tables(url: str) -> None:
    engine = sync_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE customers (id INTEGER PRIMARY KEY, "
                             "name VARCHAR(40) NOT NULL)")
        conn.exec_driver_sql(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, status VARCHAR(10) NOT NULL, "
            "total NUMERIC(10, 2) NOT NULL, note VARCHAR(40), "
            "customer_id INTEGER REFERENCES customers (id))")
        conn.execute(sa.text("INSERT INTO customers VALUES (:id, :name)"),
                     [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Grace"}])
        conn.execute(sa.text("INSERT INTO orders VALUES (:id, 'new', :total, NULL, 1)"),
                     [{"id": i, "total": 10 * i} for i in range(1, 6)])
    engine.dispose()


def statuses(url: str) -> dict[int, str]:
    engine = sync_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, status FROM orders ORDER BY id")).all()
    engine.dispose()
    return {row[0]: row[1] for row in rows}


def runs(url: str) -> list[RunEntry]:
    """Every journal row, oldest first."""
    engine = sync_engine(url)
    with engine.connect() as conn:
        entries = JournalStore().recent_sync(conn, limit=1000)
    engine.dispose()
    return sorted(entries, key=lambda entry: entry.id or 0)


def make_flex(url: str, **settings: Any) -> Flex:
    options: dict[str, Any] = {"tokens": (TOKEN,), "auto_upgrade": True, "journal": True,
                               "jwt_public_key": key_pair().public_pem, "project": PROJECT}
    options.update(settings)
    flex = Flex(url, settings=Settings(**options))
    Customer = flex.model("customers")

    @flex.action(model="orders", for_instance=True, bulk=True, label="Ship orders")
    def ship(orders: list[Any], carrier: Carrier,
             on: Annotated[dt.date, Param(label="Ship on", description="The day they leave")]
             = dt.date(2026, 1, 1)) -> int:
        """Mark the orders shipped with a carrier."""
        for order in orders:
            order.status = "shipped"
            order.note = f"{carrier.value} {on.isoformat()}"
        return len(orders)

    @flex.action(model="orders", for_instance=True)
    def discount(order: Any, amount: Annotated[Decimal, Field(ge=0)],
                 size: Literal["s", "m"] = "s") -> str:
        """Take an amount off one order's total."""
        if amount > order.total:
            raise ActionError(f"order {order.id} costs less than {amount}")
        order.total -= amount
        return str(order.total)

    @flex.action(model="orders", for_instance=True)
    def reassign(order: Any, customer: Customer) -> str:
        order.customer_id = customer.id
        return customer.name

    @flex.action(model="orders", writes=False)
    def report(ctx: ActionContext, limit: int = 10) -> dict[str, Any]:
        """Count the orders per status."""
        rows = ctx.session.execute(sa.text(
            "SELECT status, COUNT(*) FROM orders GROUP BY status ORDER BY status")).all()
        return {"statuses": {row[0]: row[1] for row in rows[:limit]}}

    @flex.action(model="orders", name="refresh")
    def refresh_orders(ctx: ActionContext) -> str:
        return "orders"

    @flex.action(name="refresh")
    def refresh_everything(ctx: ActionContext) -> str:
        return "everything"

    @flex.action(model="orders", for_instance=True, allow=lambda ctx: False)
    def forbidden(order: Any) -> None:
        order.status = "forbidden"

    @flex.action(model="orders", fields=["note"])
    def annotate(ctx: ActionContext, **values: Any) -> Any:
        return values.get("note")  # a field the client did not send is left out

    return flex
