"""Dry runs, max_affected, preview tokens, the preview parameter and after_commit, through
ActionService on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flexorm.actions import ActionContext, action
from flexorm.auth.caller import Caller
from flexorm.exceptions import (
    ActionError,
    PreviewMismatch,
    RequestError,
    TooManyChanges,
    ValidationError,
)
from flexorm.flex import Flex
from flexorm.journal.store import JournalStore
from flexorm.protocol.requests import ExecuteRequest
from flexorm.settings import Settings
from tests.conftest import sync_engine
from tests.integration._actions_shop import CALLER, service

pytestmark = pytest.mark.anyio

ORDERS = 240

metadata = sa.MetaData()
accounts = sa.Table(
    "accounts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(40), nullable=False),
    sa.Column("balance", sa.Numeric(12, 2), nullable=False),
)
orders = sa.Table(
    "orders", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("total", sa.Numeric(10, 2), nullable=False),
)
notes = sa.Table(
    "notes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("text", sa.String(80), nullable=False),
)


def create(url: str) -> None:
    engine = sync_engine(url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(accounts.insert(), [{"name": "alice", "balance": 100},
                                         {"name": "bob", "balance": 50}])
        conn.execute(orders.insert(), [
            {"status": "new", "account_id": 1 + i % 2, "total": Decimal(10 + i)}
            for i in range(ORDERS)])
        conn.execute(notes.insert(), [{"order_id": 1, "text": "fragile"},
                                      {"order_id": 2, "text": "gift"}])
    engine.dispose()


def snapshot(url: str) -> dict[str, Any]:
    """Every row of every table (flexorm's own included), and a SQLite file's bytes."""
    engine = sync_engine(url)
    found = sa.MetaData()
    found.reflect(engine)
    with engine.connect() as conn:
        rows = {name: conn.execute(sa.select(table).order_by(*table.columns)).all()
                for name, table in found.tables.items()}
    engine.dispose()
    database = sa.make_url(url).database
    if url.startswith("sqlite") and database:
        rows["<file>"] = Path(database).read_bytes()
    return rows


def write(url: str, statement: sa.Executable, params: Any = None) -> None:
    engine = sync_engine(url)
    with engine.begin() as conn:
        conn.execute(statement, params)
    engine.dispose()


def make(url: str, *, journal: bool = False, **settings: Any) -> Flex:
    return Flex(url, settings=Settings(insecure=True, auto_upgrade=True, journal=journal,
                                       **settings))


def declare_shop(flex: Flex, fired: list[str]) -> None:
    @flex.action(model="orders", for_instance=True, bulk=True)
    def ship(rows: list[Any], carrier: str, ctx: ActionContext) -> int:
        for row in rows:
            row.status = "shipped"
        ctx.after_commit(lambda: fired.append(f"shipped {len(rows)} with {carrier}"))
        return len(rows)

    @flex.action(model="orders", for_instance=True)
    async def split(order: Any, ctx: ActionContext) -> str:
        """Per record, async: a note added, the order's other notes deleted, a new order."""
        session = ctx.session
        await session.execute(notes.delete().where(notes.c.order_id == order.id))
        await session.execute(notes.insert().values(order_id=order.id, text="split"))
        await session.execute(orders.insert().values(
            id=10_000 + order.id, status="new", account_id=order.account_id,
            total=order.total / 2))
        order.total = order.total / 2

        async def later() -> None:
            fired.append(f"split {order.id}")

        ctx.after_commit(later)
        return "split"

    @flex.action(model="orders")
    def close_old(before: int, ctx: ActionContext) -> str:
        """A collection action with Core statements over many rows."""
        session = ctx.session
        assert isinstance(ctx.dry_run, bool)
        session.execute(orders.update().where(orders.c.id < before).values(status="closed"))
        session.execute(notes.delete())
        return "dry" if ctx.dry_run else "real"


async def run(flex: Flex, request: ExecuteRequest, caller: Caller = CALLER) -> dict[str, Any]:
    async with service(flex) as actions:
        return await actions.execute(request, caller=caller)


@pytest.fixture
def url(any_url: str) -> str:
    create(any_url)
    return any_url


async def test_a_dry_run_answers_the_changes_and_leaves_the_database_as_it_was(url):
    fired: list[str] = []
    flex = make(url)
    declare_shop(flex, fired)
    before = snapshot(url)
    answer = await run(flex, ExecuteRequest("ship", model="orders", ids=(3, 1, 2),
                                            params={"carrier": "ups"}, dry_run=True))
    assert snapshot(url) == before
    assert fired == []
    token = answer.pop("preview_token")
    assert isinstance(token, str)
    assert answer == {"result": 3, "dry_run": True, "changes": {"orders": {
        "inserted": 0, "updated": 3, "deleted": 0,
        "rows": [{"key": key, "change": "updated", "columns": {"status": ["new", "shipped"]}}
                 for key in (1, 2, 3)]}}}


async def test_per_record_async_inserts_deletes_and_orm_edits_are_counted(url):
    fired: list[str] = []
    flex = make(url)
    declare_shop(flex, fired)
    before = snapshot(url)
    answer = await run(flex, ExecuteRequest("split", model="orders", ids=(1, 2, 3),
                                            dry_run=True))
    assert snapshot(url) == before
    assert answer["result"] == ["split", "split", "split"]
    changes = answer["changes"]
    assert {name: {k: v for k, v in table.items() if k != "rows"}
            for name, table in changes.items()} == {
        "notes": {"inserted": 3, "updated": 0, "deleted": 2},
        "orders": {"inserted": 3, "updated": 3, "deleted": 0},
    }
    assert changes["notes"]["rows"][0] == {"key": 1, "change": "deleted", "columns": {
        "id": [1, None], "order_id": [1, None], "text": ["fragile", None]}}
    updated = [row for row in changes["orders"]["rows"] if row["change"] == "updated"]
    assert updated[0] == {"key": 1, "change": "updated", "columns": {"total": ["10.00", "5.00"]}}
    inserted = [row for row in changes["orders"]["rows"] if row["change"] == "inserted"]
    assert [row["key"] for row in inserted] == [10_001, 10_002, 10_003]
    assert inserted[0]["columns"]["status"] == [None, "new"]
    assert fired == []


async def test_core_statements_over_many_rows_are_counted_exactly(url):
    flex = make(url, dry_run_rows=2)
    declare_shop(flex, [])
    before = snapshot(url)
    answer = await run(flex, ExecuteRequest("close_old", model="orders",
                                            params={"before": 201}, dry_run=True))
    assert snapshot(url) == before
    assert answer["result"] == "dry"
    assert answer["changes"] == {
        "notes": {"inserted": 0, "updated": 0, "deleted": 2, "rows": [
            {"key": 1, "change": "deleted",
             "columns": {"id": [1, None], "order_id": [1, None], "text": ["fragile", None]}},
            {"key": 2, "change": "deleted",
             "columns": {"id": [2, None], "order_id": [2, None], "text": ["gift", None]}}]},
        "orders": {"inserted": 0, "updated": 200, "deleted": 0, "rows": [
            {"key": 1, "change": "updated", "columns": {"status": ["new", "closed"]}},
            {"key": 2, "change": "updated", "columns": {"status": ["new", "closed"]}}]},
    }
    real = await run(flex, ExecuteRequest("close_old", model="orders", params={"before": 201}))
    assert real == {"result": "real"}
    assert snapshot(url) != before


async def test_after_commit_runs_once_after_a_commit_and_never_otherwise(url):
    fired: list[str] = []
    flex = make(url)
    declare_shop(flex, fired)

    @flex.action(model="orders", for_instance=True)
    def fail_later(order: Any, ctx: ActionContext) -> None:
        ctx.after_commit(lambda: fired.append("never"))
        order.status = "broken"
        raise ActionError("no")

    async with service(flex) as actions:
        await actions.execute(ExecuteRequest("ship", model="orders", ids=(1, 2),
                                             params={"carrier": "dhl"}, dry_run=True),
                              caller=CALLER)
        assert fired == []
        with pytest.raises(ActionError):
            await actions.execute(ExecuteRequest("fail_later", model="orders", ids=(1,)),
                                  caller=CALLER)
        assert fired == []
        await actions.execute(ExecuteRequest("ship", model="orders", ids=(1, 2),
                                             params={"carrier": "dhl"}), caller=CALLER)
        assert fired == ["shipped 2 with dhl"]
        await actions.execute(ExecuteRequest("split", model="orders", ids=(5, 6)),
                              caller=CALLER)
    assert fired == ["shipped 2 with dhl", "split 5", "split 6"]


async def test_a_failing_after_commit_callback_is_logged_and_the_commit_stands(url, caplog):
    flex = make(url)

    @flex.action(model="orders", for_instance=True)
    def noisy(order: Any, ctx: ActionContext) -> str:
        order.status = "noisy"
        ctx.after_commit(lambda: 1 / 0)
        return "saved"

    answer = await run(flex, ExecuteRequest("noisy", model="orders", ids=(7,)))
    assert answer == {"result": "saved"}
    engine = sync_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.select(orders.c.status).where(orders.c.id == 7)).scalar() == "noisy"
    engine.dispose()
    assert "after_commit failed" in caplog.text


async def test_max_affected_refuses_and_rolls_back(url):
    flex = make(url)
    fired: list[str] = []

    @flex.action(model="orders", max_affected=150)
    def close_all(ctx: ActionContext) -> None:
        ctx.session.execute(orders.update().values(status="closed"))
        ctx.after_commit(lambda: fired.append("never"))

    @flex.action(model="orders", for_instance=True, bulk=True, max_affected=2)
    def ship_few(rows: list[Any]) -> int:
        for row in rows:
            row.status = "shipped"
        return len(rows)

    before = snapshot(url)
    with pytest.raises(TooManyChanges) as refused:
        await run(flex, ExecuteRequest("close_all", model="orders"))
    assert refused.value.message == (
        f"would change {ORDERS} rows of orders; this action may change at most 150")
    assert snapshot(url) == before
    assert fired == []
    with pytest.raises(TooManyChanges, match="would change 3 rows of orders"):
        await run(flex, ExecuteRequest("ship_few", model="orders", ids=(1, 2, 3), dry_run=True))
    assert await run(flex, ExecuteRequest("ship_few", model="orders", ids=(1, 2))) == {
        "result": 2}


async def test_a_preview_token_commits_what_was_previewed_and_refuses_a_stale_one(url):
    flex = make(url)
    declare_shop(flex, [])
    request = ExecuteRequest("close_old", model="orders", params={"before": 11})
    async with service(flex) as actions:
        dry = await actions.execute(
            ExecuteRequest("close_old", model="orders", params={"before": 11}, dry_run=True),
            caller=CALLER)
        token = dry["preview_token"]
        stale = await actions.execute(
            ExecuteRequest("close_old", model="orders", params={"before": 21}, dry_run=True),
            caller=CALLER)
        answer = await actions.execute(
            ExecuteRequest("close_old", model="orders", params={"before": 11},
                           preview_token=token), caller=CALLER)
        assert answer == {"result": "real"}
        before = snapshot(url)
        # the notes are gone now: the same counts cannot happen again
        with pytest.raises(PreviewMismatch, match="the data changed since the preview"):
            await actions.execute(
                ExecuteRequest("close_old", model="orders", params={"before": 21},
                               preview_token=stale["preview_token"]), caller=CALLER)
        assert snapshot(url) == before
        with pytest.raises(PreviewMismatch, match="another action, selection, parameters"):
            await actions.execute(
                ExecuteRequest("close_old", model="orders", params={"before": 12},
                               preview_token=token), caller=CALLER)
        with pytest.raises(PreviewMismatch, match="another action, selection, parameters"):
            await actions.execute(
                ExecuteRequest("close_old", model="orders", params={"before": 11},
                               preview_token=token), caller=Caller(kind="key", key_name="other"))
        with pytest.raises(RequestError) as bad:
            await actions.execute(
                ExecuteRequest("close_old", model="orders", params={"before": 11},
                               preview_token="not a token"), caller=CALLER)
        assert bad.value.field == "preview_token"
    assert request.dry_run is False


async def test_the_preview_parameter_makes_a_dry_run_that_reads_as_text(url):
    flex = make(url)

    @flex.action(model="orders", for_instance=True, bulk=True, preview=True)
    def cancel(rows: list[Any], reason: str = "") -> int:
        for row in rows:
            row.status = "cancelled"
        return len(rows)

    before = snapshot(url)
    async with service(flex) as actions:
        [descriptor] = actions.action_list()
        assert descriptor["params"][-1] == {
            "name": "preview", "field": "BooleanField", "required": False, "default": True,
            "label": "Preview only: nothing is saved"}
        answer = await actions.execute(ExecuteRequest("cancel", model="orders", ids=(4, 5)),
                                       caller=CALLER)
        assert snapshot(url) == before
        assert answer["dry_run"] is True
        assert answer["result"] == (
            "Preview only: nothing was saved.\n"
            "orders: 2 updated\n"
            "  4: status new → cancelled\n"
            "  5: status new → cancelled\n"
            "The action answered: 2")
        assert answer["changes"]["orders"]["updated"] == 2
        with pytest.raises(ValidationError) as bad:
            await actions.execute(ExecuteRequest("cancel", model="orders", ids=(4,),
                                                 params={"preview": "maybe"}), caller=CALLER)
        assert bad.value.errors == {"preview": ["must be true or false"]}
        real = await actions.execute(ExecuteRequest("cancel", model="orders", ids=(4, 5),
                                                    params={"preview": False}),
                                     caller=CALLER)
    assert real == {"result": 2}
    assert snapshot(url) != before


class Base(DeclarativeBase):
    pass


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column("status", sa.String(12))
    account_id: Mapped[int]
    total: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))

    @action(max_affected=5)
    def discount(self, percent: int, ctx: ActionContext) -> str:
        self.total = self.total * (100 - percent) / 100
        ctx.after_commit(lambda: None)
        return f"{type(self).__name__} {self.id}"


async def test_actions_on_the_users_own_models(url):
    flex = Flex(url, base=Base, settings=Settings(insecure=True, auto_upgrade=True,
                                                  journal=False))
    before = snapshot(url)
    answer = await run(flex, ExecuteRequest("discount", model="orders", ids=(1, 2),
                                            params={"percent": 50}, dry_run=True))
    assert snapshot(url) == before
    assert answer["result"] == ["Order 1", "Order 2"]
    assert answer["changes"]["orders"]["rows"] == [
        {"key": 1, "change": "updated", "columns": {"total": ["10.00", "5.00"]}},
        {"key": 2, "change": "updated", "columns": {"total": ["11.00", "5.50"]}},
    ]
    with pytest.raises(TooManyChanges):
        await run(flex, ExecuteRequest("discount", model="orders", ids=tuple(range(1, 7)),
                                       params={"percent": 10}))
    assert snapshot(url) == before


async def test_the_journal_records_a_dry_run_as_such(url):
    flex = make(url, journal=True)
    declare_shop(flex, [])

    @flex.action(model="orders", max_affected=1000)
    def close_some(ctx: ActionContext) -> None:
        ctx.session.execute(orders.update().where(orders.c.id <= 3).values(status="closed"))

    async with flex.runtime() as runtime:
        actions = runtime.actions
        await actions.execute(ExecuteRequest("close_old", model="orders",
                                             params={"before": 5}, dry_run=True),
                              caller=CALLER)
        await actions.execute(ExecuteRequest("close_some", model="orders"), caller=CALLER)
        await actions.execute(ExecuteRequest("close_old", model="orders",
                                             params={"before": 5}), caller=CALLER)
        with pytest.raises(RequestError, match="takes no idempotency key"):
            await actions.execute(ExecuteRequest("close_old", model="orders",
                                                 params={"before": 5}, dry_run=True),
                                  caller=CALLER, idempotency_key="k1")
        assert runtime.journal is not None
        async with runtime.journal.engine.connect() as conn:
            entries = await JournalStore().recent(conn, limit=10)
    third, second, first = entries[1:]
    assert entries[0].status == "rejected"
    assert (first.action, first.status, first.dry_run) == ("close_old", "succeeded", True)
    assert first.changes == {"notes": {"deleted": 2, "inserted": 0, "updated": 0},
                             "orders": {"deleted": 0, "inserted": 0, "updated": 4}}
    assert first.result == "dry"
    assert (second.action, second.dry_run) == ("close_some", False)
    assert second.changes == {"orders": {"deleted": 0, "inserted": 0, "updated": 3}}
    assert (third.action, third.dry_run, third.changes) == ("close_old", False, None)


@pytest.fixture(params=[pytest.param("pg_url", marks=pytest.mark.postgres),
                        pytest.param("mariadb_url", marks=pytest.mark.mariadb)])
def server_url(request: pytest.FixtureRequest) -> str:
    """A database where several writing transactions run at once."""
    found = str(request.getfixturevalue(request.param))
    create(found)
    return found


async def test_a_failed_dry_run_is_journaled_as_one_and_a_preview_releases_its_key(url):
    flex = make(url, journal=True)

    @flex.action(model="orders", for_instance=True, preview=True)
    def refuse(order: Any) -> None:
        order.status = "refused"
        if order.id == 2:
            raise ActionError("order 2 may not be refused")

    async with flex.runtime() as runtime:
        actions = runtime.actions
        with pytest.raises(ActionError):
            await actions.execute(ExecuteRequest("refuse", model="orders", ids=(1, 2)),
                                  caller=CALLER)
        previewed = await actions.execute(ExecuteRequest("refuse", model="orders", ids=(1,)),
                                          caller=CALLER, idempotency_key="key-1")
        assert previewed["dry_run"] is True
        # the key was given back: the same key runs the real request
        saved = await actions.execute(
            ExecuteRequest("refuse", model="orders", ids=(1,), params={"preview": False}),
            caller=CALLER, idempotency_key="key-1")
        assert saved == {"result": True}
        assert runtime.journal is not None
        async with runtime.journal.engine.connect() as conn:
            real, preview, failed = await JournalStore().recent(conn, limit=3)
    assert (failed.status, failed.dry_run, failed.error) == (
        "failed", True, "order 2 may not be refused")
    assert (preview.status, preview.dry_run, preview.idempotency_key) == (
        "succeeded", True, "key-1")
    assert preview.changes == {"orders": {"deleted": 0, "inserted": 0, "updated": 1}}
    assert (real.status, real.dry_run, real.idempotency_key) == ("succeeded", False, "key-1")


async def test_concurrent_dry_runs_each_see_only_their_own_changes(server_url):
    flex = make(server_url)
    declare_shop(flex, [])
    before = snapshot(server_url)
    async with service(flex) as actions:
        answers = await asyncio.gather(*(
            actions.execute(ExecuteRequest("ship", model="orders", ids=(i,),
                                           params={"carrier": "x"}, dry_run=True),
                            caller=CALLER)
            for i in (1, 2, 3)))
    assert [a["changes"]["orders"]["rows"] for a in answers] == [
        [{"key": i, "change": "updated", "columns": {"status": ["new", "shipped"]}}]
        for i in (1, 2, 3)]
    assert snapshot(server_url) == before


def test_over_http_a_dry_run_a_cap_and_a_stale_token(url):
    flex = make(url)
    declare_shop(flex, [])

    @flex.action(model="orders", max_affected=1200)
    def close_all(ctx: ActionContext) -> None:
        ctx.session.execute(orders.update().values(status="closed"))

    def post(client: TestClient[Any], **params: Any) -> tuple[int, Any]:
        response = client.post("/api/messages/", json={
            "name": "execute_action", "params": {"model": "orders", **params}})
        return response.status_code, response.json()

    with TestClient(flex.app, raise_server_exceptions=False) as client:
        status, dry = post(client, name="close_old", params={"before": 3}, dry_run=True)
        assert status == 200
        assert (dry["result"], dry["dry_run"]) == ("dry", True)
        assert dry["changes"]["orders"]["updated"] == 2
        assert post(client, name="close_old", params={"before": 3}, dry_run="yes") == (
            400, {"dry_run": ["must be true or false (a JSON boolean)"]})
        assert post(client, name="close_all", dry_run=True)[0] == 200
        write(url, orders.insert(), [{"status": "new", "account_id": 1, "total": 1}
                                     for _ in range(1000)])
        assert post(client, name="close_all") == (400, {"non_field_errors": [
            f"would change {ORDERS + 1000:,} rows of orders; this action may change at most "
            "1,200"]})
        write(url, notes.delete().where(notes.c.id == 2))  # someone else, meanwhile
        before = snapshot(url)
        status, body = post(client, name="close_old", params={"before": 3},
                            preview_token=dry["preview_token"])
        assert (status, body["error_code"]) == (409, "preview_mismatch")
        assert body["error"] == (
            "the data changed since the preview: this run would change notes (1 deleted); "
            "orders (2 updated), the preview showed notes (2 deleted); orders (2 updated); "
            "nothing was saved")
        assert snapshot(url) == before
        status, body = post(client, name="close_old", params={"before": 3},
                            preview_token=dry["preview_token"], dry_run=True)
        assert status == 400
        assert list(body) == ["preview_token"]
