"""Statement counts of big selections that write: no N+1 in loading, writing or answering.

(Loading alone, for a read-only bulk body and for inverse selections, is counted in
``test_actions_models.py``.) Here the body changes one column of every selected record, or
answers the records themselves, and the counts must not grow with the number of ids: one
``SELECT`` per chunk, ``UPDATE``s sent as batches, nothing re-read to encode the answer.
"""

from __future__ import annotations

import gc
from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa

from flexorm.protocol.requests import ExecuteRequest
from tests.integration._actions_shop import (
    CALLER,
    create_shop,
    make_flex,
    running,
    snapshot,
    statements,
)

pytestmark = pytest.mark.anyio

ORDERS = 1200
CHUNK = 500
CHUNKS = 3  # 1,200 ids in chunks of 500


def verbs(seen: list[str]) -> Counter[str]:
    return Counter(statement.lstrip().split(None, 1)[0].upper() for statement in seen)


async def run(db_url: str, body: Any, *, bulk: bool, sync: bool = True,
              ids: int = ORDERS, **params: Any) -> tuple[Any, Counter[str]]:
    flex = make_flex(db_url, chunk_size=CHUNK)
    flex.action(model="orders", for_instance=True, bulk=bulk, name="act")(body)
    wanted = tuple(str(i) for i in range(ids, 0, -1))
    async with running(flex) as runtime:
        with statements(runtime) as seen:
            answer = await runtime.actions.execute(
                ExecuteRequest("act", model="orders", ids=wanted, params=params), caller=CALLER)
    return answer, verbs(seen)


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
async def test_a_bulk_update_of_one_column_is_one_select_per_chunk(db_url, sync):
    create_shop(db_url, orders=ORDERS)

    def ship(orders, carrier: str) -> int:
        for order in orders:
            order.carrier = carrier
        return len(orders)

    async def ship_async(orders, carrier: str) -> int:
        return ship(orders, carrier)

    answer, counts = await run(db_url, ship if sync else ship_async, bulk=True,
                               carrier="post")
    assert answer == {"result": ORDERS}
    assert counts["SELECT"] == CHUNKS
    assert 1 <= counts["UPDATE"] <= CHUNKS  # executemany batches, never one per row
    assert sum(1 for row in snapshot(db_url, "orders") if row[5] == "post") == ORDERS


async def test_a_per_record_body_over_many_ids_does_not_query_per_record(db_url):
    create_shop(db_url, orders=ORDERS)

    def touch(order, carrier: str) -> int:
        order.carrier = carrier
        return order.id

    answer, counts = await run(db_url, touch, bulk=False, carrier="van")
    assert len(answer["result"]) == ORDERS
    assert counts["SELECT"] == CHUNKS
    assert 1 <= counts["UPDATE"] <= CHUNKS


async def test_answering_the_updated_records_reads_nothing_again(db_url):
    create_shop(db_url, orders=ORDERS)

    def ship(orders, carrier: str) -> list[Any]:
        for order in orders:
            order.carrier = carrier
        return orders

    answer, counts = await run(db_url, ship, bulk=True, carrier="ship")
    assert len(answer["result"]) == ORDERS
    assert {record["carrier"] for record in answer["result"]} == {"ship"}
    assert counts["SELECT"] == CHUNKS


async def test_counts_do_not_grow_with_the_number_of_ids(db_url):
    create_shop(db_url, orders=ORDERS)

    def ship(orders, carrier: str) -> int:
        for order in orders:
            order.carrier = carrier
        return len(orders)

    _, few = await run(db_url, ship, bulk=True, ids=CHUNK, carrier="a")
    _, many = await run(db_url, ship, bulk=True, ids=ORDERS, carrier="b")
    assert (few["SELECT"], many["SELECT"]) == (1, CHUNKS)
    assert many["UPDATE"] <= CHUNKS


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
async def test_the_collector_is_never_switched_off_on_the_request_path(
        sqlite_url, sync):
    create_shop(sqlite_url, orders=ORDERS)
    in_body: list[bool] = []

    def ship(orders, carrier: str) -> int:
        in_body.append(gc.isenabled())
        for order in orders:
            order.carrier = carrier
        return len(orders)

    async def ship_async(orders, carrier: str) -> int:
        return ship(orders, carrier)

    flex = make_flex(sqlite_url, chunk_size=CHUNK)
    flex.action(model="orders", for_instance=True, bulk=True, name="act")(
        ship if sync else ship_async)
    collecting: list[tuple[str, bool]] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        collecting.append((verbs([statement]).most_common(1)[0][0], gc.isenabled()))

    assert gc.isenabled()
    async with running(flex) as runtime:
        engines = [runtime.database.engine.sync_engine, runtime.database.sync_engine]
        for engine in engines:
            sa.event.listen(engine, "before_cursor_execute", record)
        answer = await runtime.actions.execute(ExecuteRequest(
            "act", model="orders", ids=tuple(str(i) for i in range(1, ORDERS + 1)),
            params={"carrier": "post"}), caller=CALLER)
        split = len(collecting)
        small = await runtime.actions.execute(ExecuteRequest(
            "act", model="orders", ids=("1", "2"), params={"carrier": "van"}), caller=CALLER)
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", record)
    assert (answer, small) == ({"result": ORDERS}, {"result": 2})
    assert in_body == [True, True]
    assert gc.isenabled()
    # (SQLite's explicit BEGIN IMMEDIATE opens each run: see flexorm.database)
    many, few = ([(verb, on) for verb, on in part if verb != "BEGIN"]
                 for part in (collecting[:split], collecting[split:]))
    assert [verb for verb, _ in many][:CHUNKS + 1] == ["SELECT"] * CHUNKS + ["UPDATE"]
    # a switch of the collector is process-wide: other requests on the event loop (and two
    # overlapping actions) would run with it off, so nothing on the request path touches it
    assert all(enabled for _, enabled in many)
    assert [verb for verb, _ in few][:2] == ["SELECT", "UPDATE"]
    assert all(enabled for _, enabled in few)
