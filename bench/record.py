"""A per-record action on one record, called many times: flexorm vs a hand-written session.

What a user clicking one row costs: flexorm runs ``ActionService.execute`` with one id (validate,
coerce the id, load the row in the action's transaction, call the body, flush, encode, commit);
the baseline opens a session, loads the same row by key, sets the column and commits. Each figure
is the time of ``CALLS`` calls in a row, so that one call's few milliseconds are measurable.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bench.bulk import Order
from bench.schemas import ORDERS
from bench.stats import paired
from flexorm import Flex
from flexorm.auth.caller import Caller
from flexorm.protocol.requests import ExecuteRequest
from flexorm.settings import Settings

CALLS = 200


def measure(url: str, repeat: int) -> dict[str, object]:
    flex = Flex(url, settings=Settings(insecure=True))

    @flex.action(model=ORDERS, for_instance=True)
    def mark_one(order: Order, status: str) -> str:
        order.status = status
        return str(order.status)

    caller = Caller(kind="insecure")
    engine = sa.create_engine(url)
    flips = iter(range(10**9))

    def bare() -> None:
        for record in range(1, CALLS + 1):
            status = f"b{next(flips) % 2}"
            with Session(engine) as session, session.begin():
                order = session.scalars(sa.select(Order).where(Order.id == record)).one()
                order.status = status

    loop = asyncio.new_event_loop()
    runtime_cm = flex.runtime()
    runtime = loop.run_until_complete(runtime_cm.__aenter__())
    try:
        async def calls() -> None:
            for record in range(1, CALLS + 1):
                status = f"f{next(flips) % 2}"
                request = ExecuteRequest("mark_one", model=ORDERS, ids=(record,),
                                         params={"status": status})
                answer = await runtime.actions.execute(request, caller=caller)
                assert answer == {"result": status}, answer

        def flexorm() -> None:
            loop.run_until_complete(calls())

        times = paired({"flexorm": flexorm, "bare": bare}, repeat)
    finally:
        loop.run_until_complete(runtime_cm.__aexit__(None, None, None))
        loop.close()
        engine.dispose()
    return dict(times)
