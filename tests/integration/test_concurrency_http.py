"""Many people clicking at once, through the real server (uvicorn in its own process) on
SQLite files, PostgreSQL and MariaDB: no update is lost, no balance is spent twice, and two
actions over the same rows in opposite orders both finish.

Each body reads, pauses a moment, then writes what it read plus one: without locking, two
runs read the same value and one update is lost; with it, every run sees the one before.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests._serving import WAIT, at_once, serving
from tests.conftest import sync_engine

TOKEN = "concurrency-key"
CLICKS = 20

SERVER = """
import asyncio
import sys
import threading
import time
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import uvicorn

from flexorm import ActionContext, ActionError, Flex, Settings

url, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
flex = Flex(url, settings=Settings(tokens=(token,), journal=True, auto_upgrade=True))
Account = flex.model("accounts")


@flex.action(model="counters", for_instance=True)
def bump(counter: Any) -> int:
    seen = counter.visits
    time.sleep(0.01)
    counter.visits = seen + 1
    return counter.visits


@flex.action(model="counters", for_instance=True)
async def bump_async(counter: Any) -> int:
    seen = counter.visits
    await asyncio.sleep(0.01)
    counter.visits = seen + 1
    return counter.visits


@flex.action(model="accounts")
def transfer(source: Account, target: Account, amount: Decimal) -> bool:
    if source.balance < amount:
        raise ActionError(f"insufficient funds: {source.balance}")
    time.sleep(0.01)
    source.balance -= amount
    target.balance += amount
    return True


@flex.action(model="accounts", for_instance=True, bulk=True)
def add_interest(accounts: list[Any]) -> int:
    for account in accounts:
        account.balance += 1
        time.sleep(0.005)
    return len(accounts)


@flex.action(model="accounts", writes=False)
def total() -> str:
    return "read"


@flex.action(model="accounts", writes=False)
def report(ctx: ActionContext) -> str:
    seen = ctx.session.execute(sa.text("SELECT SUM(balance) FROM accounts")).scalar()
    time.sleep(0.01)  # still reading when the others start
    return str(seen)


def crossing(name: str, retries: int) -> None:
    # Two runs each update one row, meet, then update the other's row: a deadlock, every
    # time. Each run meets only once, so that a retried run goes straight through.
    meeting = threading.Barrier(2)
    met: set[int] = set()

    def crossed(first: int, second: int, ctx: ActionContext) -> bool:
        bump = sa.text("UPDATE accounts SET balance = balance + 1 WHERE id = :id")
        ctx.session.execute(bump, {"id": first})
        if first not in met:
            met.add(first)
            meeting.wait(timeout=30)
        ctx.session.execute(bump, {"id": second})
        return True

    flex.action(model="accounts", name=name, retries=retries)(crossed)


@flex.action(model="jobs", for_instance=True, skip_locked=True)
def take(job: Any) -> int:
    job.taken = 1
    return job.id


crossing("crossed", retries=0)
crossing("crossed_retried", retries=1)


uvicorn.run(flex.app, host="127.0.0.1", port=port, log_level="warning")
"""

METADATA = sa.MetaData()
COUNTERS = sa.Table("counters", METADATA,
                    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                    sa.Column("visits", sa.Integer, nullable=False))
JOBS = sa.Table("jobs", METADATA,
                sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                sa.Column("taken", sa.Integer, nullable=False))
ACCOUNTS = sa.Table("accounts", METADATA,
                    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                    sa.Column("balance", sa.Numeric(12, 2), nullable=False))


@pytest.fixture(scope="module")
def server(module_any_url: str,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """One server per database for the module; each test works on rows of its own."""
    url = module_any_url
    engine = sync_engine(url)
    METADATA.create_all(engine)
    with engine.begin() as conn:
        conn.execute(COUNTERS.insert(), [{"id": i, "visits": 0} for i in range(1, 4)])
        conn.execute(JOBS.insert(), [{"id": i, "taken": 0} for i in range(1, 4)])
        conn.execute(ACCOUNTS.insert(), [{"id": 1, "balance": Decimal(150)},
                                         {"id": 2, "balance": Decimal(1000)},
                                         {"id": 3, "balance": Decimal(1000)},
                                         {"id": 4, "balance": Decimal(1000)}]
                     + [{"id": i, "balance": Decimal(1000)} for i in range(5, 9)])
    engine.dispose()
    log = tmp_path_factory.mktemp("server") / "server.log"
    with serving(lambda port: [sys.executable, "-c", SERVER, url, str(port), TOKEN],
                 log) as base:
        yield base, url


def _execute(base: str, params: dict[str, Any]) -> tuple[int, Any]:
    response = httpx.post(f"{base}/api/messages/", timeout=WAIT,
                          headers={"Authorization": f"Bearer {TOKEN}"},
                          json={"name": "execute_action", "params": params})
    return response.status_code, response.json()


def _value(url: str, table: sa.Table, key: int) -> Any:
    engine = sync_engine(url)
    with engine.connect() as conn:
        value = conn.execute(sa.select(table.c[1]).where(table.c.id == key)).scalar_one()
    engine.dispose()
    return value


@pytest.mark.parametrize(("action", "counter"), [("bump", 1), ("bump_async", 2)])
def test_concurrent_increments_end_at_n(server: tuple[str, str], action: str,
                                        counter: int) -> None:
    base, url = server
    answers = at_once([
        lambda: _execute(base, {"model": "counters", "name": action, "id": counter})
        for _ in range(CLICKS)])
    assert all(status == 200 for status, _ in answers), answers
    # every run saw the one before it: each answered a different count
    assert sorted(body["result"] for _, body in answers) == list(range(1, CLICKS + 1))
    assert _value(url, COUNTERS, counter) == CLICKS


def test_concurrent_transfers_spend_a_balance_once(server: tuple[str, str]) -> None:
    base, url = server
    send = {"model": "accounts", "name": "transfer",
            "params": {"source": 1, "target": 2, "amount": "100"}}
    answers = at_once([lambda: _execute(base, send) for _ in range(CLICKS)])
    succeeded = [body for status, body in answers if status == 200]
    refused = [body for status, body in answers if status == 400]
    assert succeeded == [{"result": True}]
    assert len(refused) == CLICKS - 1
    assert all(body["non_field_errors"][0].startswith("insufficient funds") for body in refused)
    assert (_value(url, ACCOUNTS, 1), _value(url, ACCOUNTS, 2)) == (Decimal(50), Decimal(1100))


def test_actions_over_the_same_rows_in_opposite_orders_both_finish(
        server: tuple[str, str]) -> None:
    base, url = server

    def transfer(source: int, target: int) -> tuple[int, Any]:
        return _execute(base, {"model": "accounts", "name": "transfer",
                               "params": {"source": source, "target": target, "amount": "1"}})

    def interest(ids: list[int]) -> tuple[int, Any]:
        return _execute(base, {"model": "accounts", "name": "add_interest", "ids": ids})

    calls = [lambda: transfer(3, 4), lambda: transfer(4, 3),
             lambda: interest([3, 4]), lambda: interest([4, 3])] * 5
    answers = at_once(calls)
    assert [status for status, _ in answers] == [200] * len(calls), answers
    # each interest run added 1 to both accounts; the transfers cancel out
    assert _value(url, ACCOUNTS, 3) + _value(url, ACCOUNTS, 4) == Decimal(2000 + 2 * 10)


def test_a_read_only_action_runs_beside_writing_ones(server: tuple[str, str]) -> None:
    base, _ = server
    calls = [lambda: _execute(base, {"model": "counters", "name": "bump", "id": 3}),
             lambda: _execute(base, {"model": "accounts", "name": "total"})] * 5
    assert [status for status, _ in at_once(calls)] == [200] * len(calls)


def test_concurrent_reports_all_answer_and_are_each_recorded(server: tuple[str, str]) -> None:
    """Read-only actions that read, all at once: on SQLite each held the read lock while its
    journal row wanted the write lock, and all but one answered 409."""
    base, url = server
    answers = at_once([lambda: _execute(base, {"model": "accounts", "name": "report"})
                       for _ in range(CLICKS)])
    assert [status for status, _ in answers] == [200] * CLICKS, answers
    engine = sync_engine(url)
    with engine.connect() as conn:
        recorded = conn.exec_driver_sql(
            "SELECT status, COUNT(*) FROM flexorm_action_runs WHERE action = 'report' "
            "GROUP BY status").all()
    engine.dispose()
    assert [tuple(row) for row in recorded] == [("succeeded", CLICKS)]


@pytest.mark.parametrize(("action", "accounts"), [("crossed", (5, 6)),
                                                  ("crossed_retried", (7, 8))])
def test_a_deadlock_answers_409_or_runs_again(server: tuple[str, str], action: str,
                                              accounts: tuple[int, int]) -> None:
    base, url = server
    if url.startswith("sqlite"):
        pytest.skip("SQLite runs writing actions one after another: they cannot deadlock")
    a, b = accounts

    def crossed(first: int, second: int) -> tuple[int, Any]:
        return _execute(base, {"model": "accounts", "name": action,
                               "params": {"first": first, "second": second}})

    answers = at_once([lambda: crossed(a, b), lambda: crossed(b, a)])
    both = _value(url, ACCOUNTS, a) + _value(url, ACCOUNTS, b)
    if action == "crossed_retried":
        assert answers == [(200, {"result": True})] * 2
        assert both == Decimal(2000 + 4)
        return
    assert sorted(status for status, _ in answers) == [200, 409]
    refused = next(body for status, body in answers if status == 409)
    assert refused["error_code"] == "concurrency_conflict"
    assert refused["reason"] == "deadlock"
    assert "try again" in refused["error"]
    assert both == Decimal(2000 + 2)  # the refused run's first update was rolled back


def test_skip_locked_leaves_out_the_records_another_transaction_holds(
        server: tuple[str, str]) -> None:
    base, url = server
    if url.startswith("sqlite"):
        pytest.skip("SQLite locks the whole database, not rows: there is nothing to skip")
    engine = sync_engine(url)
    with engine.connect() as conn:
        conn.execute(sa.select(JOBS).where(JOBS.c.id == 2).with_for_update())
        answer = _execute(base, {"model": "jobs", "name": "take", "ids": [1, 2, 3]})
        conn.rollback()
    engine.dispose()
    assert answer == (200, {"result": [1, 3]})
    assert [_value(url, JOBS, i) for i in (1, 2, 3)] == [1, 0, 1]
