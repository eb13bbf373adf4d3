"""The demo shop's tables and seed rows, created with SQLAlchemy on first run.

Plain SQLAlchemy Core: flexorm reflects whatever is in the database, so the demo needs no models.
The seed is deterministic (a fixed random seed), with dates relative to the day it is created.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from flexorm._url import sync_url

__all__ = [
    "ACCOUNTS",
    "INCOME",
    "METADATA",
    "ORDERS",
    "ORDER_ITEMS",
    "ORDER_STATUSES",
    "OUTCOME",
    "PRODUCTS",
    "USERS",
    "USER_STATUSES",
    "create_database",
]

USER_STATUSES = ("new", "active", "inactive", "banned")
ORDER_STATUSES = ("new", "paid", "shipped", "delivered", "cancelled", "refunded")

METADATA = sa.MetaData()

MONEY = sa.Numeric(12, 2)


def _status_check(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    # A CHECK (col IN (...)) list: flexorm offers these values as a SelectField.
    listed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=f"{column}_allowed")


USERS = sa.Table(
    "users", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(200), nullable=False, unique=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="new"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True)),
    sa.Column("last_mailed_at", sa.DateTime(timezone=True)),
    _status_check("status", USER_STATUSES),
)

ACCOUNTS = sa.Table(
    "accounts", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False, server_default="EUR"),
    sa.Column("balance", MONEY, nullable=False, server_default="0"),
    sa.Column("owner_id", sa.ForeignKey("users.id")),
)

PRODUCTS = sa.Table(
    "products", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sku", sa.String(20), nullable=False, unique=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("price", MONEY, nullable=False),
    sa.Column("stock", sa.Integer, nullable=False, server_default="0"),
)

ORDERS = sa.Table(
    "orders", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="new"),
    sa.Column("total", MONEY, nullable=False),
    sa.Column("refunded", MONEY, nullable=False, server_default="0"),
    sa.Column("carrier", sa.String(20)),
    sa.Column("shipped_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    _status_check("status", ORDER_STATUSES),
)

ORDER_ITEMS = sa.Table(
    "order_items", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("order_id", sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("product_id", sa.ForeignKey("products.id"), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price", MONEY, nullable=False),
)


def _ledger(name: str) -> sa.Table:
    return sa.Table(
        name, METADATA,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("date", sa.DateTime(timezone=True), nullable=False),
    )


INCOME = _ledger("income")
OUTCOME = _ledger("outcome")

_NAMES = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Radia",
          "Dennis", "Frances", "Niklaus"]
_PRODUCTS = [("Kettle", "29.90"), ("Teapot", "19.50"), ("Mug", "7.25"), ("Tea tin", "12.00"),
             ("Strainer", "4.99"), ("Tray", "24.00"), ("Cosy", "9.90"), ("Honey jar", "6.40")]


def _seed_rows(now: datetime) -> dict[sa.Table, list[dict[str, Any]]]:
    rng = random.Random(7)  # noqa: S311 - repeatable demo data, not a secret
    users = [
        {"id": i, "email": f"{name.lower()}@example.com", "name": name,
         "status": USER_STATUSES[i % 3], "created_at": now - timedelta(days=400 - i * 10),
         "last_seen_at": now - timedelta(days=150 if i % 4 == 0 else i)}
        for i, name in enumerate(_NAMES, start=1)
    ]
    accounts = [
        {"id": 1, "name": "Main", "currency": "EUR", "balance": Decimal("5000.00"), "owner_id": 1},
        {"id": 2, "name": "Savings", "currency": "EUR", "balance": Decimal("12000.00"),
         "owner_id": 1},
        {"id": 3, "name": "Marketing", "currency": "EUR", "balance": Decimal("800.00"),
         "owner_id": 2},
        {"id": 4, "name": "Petty cash", "currency": "EUR", "balance": Decimal("150.00"),
         "owner_id": None},
    ]
    products: list[dict[str, Any]] = [
        {"id": i, "sku": f"SKU-{i:03d}", "name": name, "price": Decimal(price),
         "stock": rng.randint(0, 50)}
        for i, (name, price) in enumerate(_PRODUCTS, start=1)
    ]
    orders: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for order_id in range(1, 25):
        lines = rng.sample(products, rng.randint(1, 3))
        total = Decimal("0")
        for product in lines:
            quantity = rng.randint(1, 4)
            total += product["price"] * quantity
            items.append({"id": len(items) + 1, "order_id": order_id, "product_id": product["id"],
                          "quantity": quantity, "unit_price": product["price"]})
        status = ORDER_STATUSES[order_id % 4]  # new, paid, shipped, delivered
        shipped = status in ("shipped", "delivered")
        orders.append({
            "id": order_id, "user_id": rng.randint(1, len(users)), "status": status,
            "total": total, "refunded": Decimal("0"),
            "carrier": rng.choice(["UPS", "DHL"]) if shipped else None,
            "shipped_at": now - timedelta(days=order_id) if shipped else None,
            "created_at": now - timedelta(days=order_id + 2),
        })
    income = [{"id": i, "account_id": 1 + i % 3, "amount": Decimal(rng.randint(100, 900)),
               "description": "Sales", "date": now - timedelta(days=i * 3)} for i in range(1, 7)]
    outcome = [{"id": i, "account_id": 1 + i % 4, "amount": Decimal(rng.randint(10, 90)),
                "description": "Supplies", "date": now - timedelta(days=i * 4)}
               for i in range(1, 7)]
    return {USERS: users, ACCOUNTS: accounts, PRODUCTS: products, ORDERS: orders,
            ORDER_ITEMS: items, INCOME: income, OUTCOME: outcome}


def create_database(url: str) -> bool:
    """Create the shop's tables and seed them, unless they already hold users.

    Returns:
        Whether the database was created (false: it was already there).
    """
    engine = sa.create_engine(sync_url(url))
    try:
        METADATA.create_all(engine)
        with engine.begin() as conn:
            if conn.execute(sa.select(sa.func.count()).select_from(USERS)).scalar_one():
                return False
            for table, rows in _seed_rows(datetime.now(UTC).replace(microsecond=0)).items():
                conn.execute(table.insert(), rows)
            if conn.dialect.name == "postgresql":  # explicit ids: move the sequences past them
                for table in METADATA.sorted_tables:  # our own table names, not input
                    conn.execute(sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                        f"(SELECT MAX(id) FROM {table.name}))"
                    ))
        return True
    finally:
        engine.dispose()
