"""A small app with the journal on, and helpers reading what it recorded, for the journal and
idempotency tests over HTTP."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import sqlalchemy as sa
from litestar.testing import TestClient

from flexorm import ActionContext, ActionError, Flex, Param, Settings
from flexorm.journal import JournalStore, RunEntry
from flexorm.journal.tables import idempotency_keys
from tests.conftest import sync_engine

TOKENS = ("first-secret-key", "second-secret-key")
AUTH = {"Authorization": f"Bearer {TOKENS[0]}"}
OTHER_AUTH = {"Authorization": f"Bearer {TOKENS[1]}"}

Pin = Annotated[str, Param(label="PIN", secret=True)]


def create_tables(url: str) -> None:
    engine = sync_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE orders (id INTEGER PRIMARY KEY, status VARCHAR(10) "
                             "NOT NULL, total NUMERIC(10, 2) NOT NULL)")
        serial = {"postgresql": "SERIAL", "mysql": "INTEGER AUTO_INCREMENT"}.get(
            conn.dialect.name, "INTEGER")
        conn.exec_driver_sql(f"CREATE TABLE hits (id {serial} PRIMARY KEY, action VARCHAR(20))")
        conn.execute(sa.text("INSERT INTO orders VALUES (:id, 'new', :total)"),
                     [{"id": i, "total": 10 * i} for i in range(1, 6)])
    engine.dispose()


def _hit(session: Any, action: str) -> None:
    session.execute(sa.text("INSERT INTO hits (action) VALUES (:a)"), {"a": action})


def make_flex(url: str, gate: Callable[[], None] | None = None, **settings: Any) -> Flex:
    """The test app: ``gate`` runs inside ``slow_cancel``'s body (a test holds it there)."""
    options: dict[str, Any] = {"tokens": TOKENS, "auto_upgrade": True, "journal": True}
    options.update(settings)
    flex = Flex(url, settings=Settings(**options))

    @flex.action(model="orders", for_instance=True)
    def cancel(order: Any, ctx: ActionContext, pin: Pin = "", reason: str = "") -> str:
        if order.status != "new":
            raise ActionError(f"order {order.id} is {order.status}")
        order.status = "cancelled"
        _hit(ctx.session, "cancel")
        return order.status

    @flex.action(model="orders", for_instance=True, bulk=True)
    async def ship(orders: list[Any], ctx: ActionContext, pin: Pin) -> int:
        for order in orders:
            order.status = "shipped"
        await ctx.session.execute(sa.text("INSERT INTO hits (action) VALUES ('ship')"))
        return len(orders)

    @flex.action(model="orders", for_instance=True)
    def explode(order: Any, ctx: ActionContext) -> None:
        order.status = "exploded"
        _hit(ctx.session, "explode")
        raise RuntimeError("the mail server is down")

    @flex.action(model="orders", for_instance=True)
    def refuse_oddly(order: Any) -> None:
        """Refuses with text no database column takes (a NUL, a lone surrogate), beyond latin1
        and beyond the three bytes of MySQL's utf8."""
        raise ActionError(f"заказ {order.id} is\x00 odd \ud800 🚚")

    @flex.action(model="orders", for_instance=True)
    def refuse_with_an_error(order: Any) -> None:
        """Refuses with an exception where a message belongs, as a body may."""
        raise ActionError(LookupError(f"order {order.id} has no address"))  # type: ignore[arg-type]

    @flex.action(model="orders", for_instance=True)
    def explode_oddly(order: Any) -> None:
        raise RuntimeError("the mail\x00server is \udfff down")

    @flex.action(model="orders", for_instance=True, allow=lambda ctx: False)
    def forbidden(order: Any) -> None:
        order.status = "forbidden"

    @flex.action(model="orders", for_instance=True)
    def hide_the_journal(order: Any, ctx: ActionContext) -> None:
        """Writes, then makes the journal row impossible to write in its own transaction."""
        order.status = "hidden"
        _hit(ctx.session, "hide")
        ctx.session.execute(sa.text("ALTER TABLE flexorm_action_runs RENAME TO runs_elsewhere"))

    @flex.action(model="orders")
    def export(ctx: ActionContext, size: int) -> str:
        """Answers ``size`` characters (its JSON: 2 more), and records that it ran."""
        _hit(ctx.session, "export")
        return "x" * size

    @flex.action(model="orders")
    async def export_async(ctx: ActionContext, size: int) -> list[str]:
        """``export`` with an async body: ``size`` one-character strings."""
        await ctx.session.execute(sa.text("INSERT INTO hits (action) VALUES ('export_async')"))
        return ["x"] * size

    @flex.action(model="orders", writes=False)
    def look(ctx: ActionContext, size: int) -> str:
        """A report that only reads: ``size`` characters."""
        return "x" * size

    @flex.action(model="orders", for_instance=True)
    def slow_cancel(order: Any, ctx: ActionContext) -> str:
        if gate is not None:
            gate()
        order.status = "cancelled"
        _hit(ctx.session, "slow_cancel")
        return "cancelled"

    return flex


@contextmanager
def client(flex: Flex) -> Iterator[TestClient[Any]]:
    with TestClient(flex.app, raise_server_exceptions=False) as test_client:
        yield test_client


def execute(client: TestClient[Any], action: str, *, headers: dict[str, str] | None = None,
            **params: Any) -> tuple[int, Any]:
    response = client.post("/api/messages/", headers={**AUTH, **(headers or {})},
                           json={"name": "execute_action",
                                 "params": {"model": "orders", "name": action, **params}})
    return response.status_code, response.json()


def runs(url: str) -> list[RunEntry]:
    """Every journal row, oldest first."""
    engine = sync_engine(url)
    with engine.connect() as conn:
        entries = JournalStore().recent_sync(conn, limit=1000)
    engine.dispose()
    return sorted(entries, key=lambda entry: entry.id or 0)


def hits(url: str, action: str | None = None) -> int:
    engine = sync_engine(url)
    with engine.connect() as conn:
        query = "SELECT count(*) FROM hits" + (" WHERE action = :a" if action else "")
        count = conn.execute(sa.text(query), {"a": action}).scalar_one()
    engine.dispose()
    return int(count)


def status_of(url: str, order_id: int) -> str:
    engine = sync_engine(url)
    with engine.connect() as conn:
        status = conn.execute(sa.text("SELECT status FROM orders WHERE id = :i"),
                              {"i": order_id}).scalar_one()
    engine.dispose()
    return str(status)


def key_rows(url: str) -> list[dict[str, Any]]:
    engine = sync_engine(url)
    with engine.connect() as conn:
        rows = [dict(row) for row in conn.execute(sa.select(idempotency_keys)).mappings()]
    engine.dispose()
    return rows


@contextmanager
def logged(name: str) -> Iterator[list[logging.LogRecord]]:
    """The records of logger ``name`` (a Litestar app reconfigures the root logger, so pytest's
    ``caplog`` does not see them)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


class Gate:
    """Holds a body until the test opens it: ``entered`` tells the test the body is running."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()

    def __call__(self) -> None:
        self.entered.set()
        assert self.opened.wait(timeout=60), "the test never opened the gate"
