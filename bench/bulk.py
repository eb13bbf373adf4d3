"""A bulk action over 10,000 ids that updates one column: flexorm vs a hand-written session.

flexorm runs through ``ActionService.execute`` (the same call the HTTP endpoint makes after
parsing; HTTP itself is measured by the throughput benchmark): validate, coerce ids, load the
rows one ``SELECT ... IN`` per chunk of 1,000, call the body with the list, flush, encode, commit.
The baseline does the same with SQLAlchemy alone: a declarative model, the same chunked loads,
set the attribute, commit. Statements are counted with ``before_cursor_execute`` on each side.

The same request with ``"dry_run": true`` is timed in the same alternation: it runs the body
for real, collects what changed (10,000 updated rows, 20 of them listed) and rolls back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from bench.schemas import ORDERS
from bench.stats import paired
from flexorm import Flex
from flexorm.auth.caller import Caller
from flexorm.protocol.requests import ExecuteRequest
from flexorm.settings import Settings

CHUNK = 1000


class _Base(DeclarativeBase):
    pass


class Order(_Base):
    """Every column of the table, as flexorm's row class maps them (the same rows are loaded)."""

    __tablename__ = ORDERS
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(12))
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    note: Mapped[str | None] = mapped_column(sa.Text)


@contextmanager
def counting(engine: sa.Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def measure(url: str, ids: int, repeat: int) -> dict[str, object]:
    flex = Flex(url, settings=Settings(insecure=True, chunk_size=CHUNK))

    @flex.action(model=ORDERS, for_instance=True, bulk=True)
    def mark(orders: list[Order], status: str) -> int:
        for order in orders:
            order.status = status
        return len(orders)

    wanted = list(range(1, ids + 1))
    caller = Caller(kind="insecure")
    engine = sa.create_engine(url)
    flips = iter(range(10**9))

    def bare() -> None:
        status = f"b{next(flips) % 2}"
        with Session(engine) as session, session.begin():
            for start in range(0, len(wanted), CHUNK):
                chunk = wanted[start:start + CHUNK]
                for order in session.scalars(sa.select(Order).where(Order.id.in_(chunk))):
                    order.status = status

    loop = asyncio.new_event_loop()
    runtime_cm = flex.runtime()
    runtime = loop.run_until_complete(runtime_cm.__aenter__())
    try:
        def flexorm() -> None:
            request = ExecuteRequest("mark", model=ORDERS, ids=tuple(wanted),
                                     params={"status": f"f{next(flips) % 2}"})
            answer = loop.run_until_complete(runtime.actions.execute(request, caller=caller))
            assert answer == {"result": ids}, answer

        def dry_run() -> None:
            request = ExecuteRequest("mark", model=ORDERS, ids=tuple(wanted),
                                     params={"status": "dry"}, dry_run=True)
            answer = loop.run_until_complete(runtime.actions.execute(request, caller=caller))
            assert answer["changes"][ORDERS]["updated"] == ids, answer["changes"]

        with counting(runtime.database.sync_engine) as flexorm_statements:
            flexorm()
        with counting(engine) as bare_statements:
            bare()
        times = paired({"flexorm": flexorm, "bare": bare, "dry_run": dry_run}, repeat)
    finally:
        loop.run_until_complete(runtime_cm.__aexit__(None, None, None))
        loop.close()
        engine.dispose()
    return {**times, "statements": {
        "flexorm": _summary(flexorm_statements), "bare": _summary(bare_statements)}}


def _summary(seen: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for verb in seen:
        counts[verb] = counts.get(verb, 0) + 1
    return counts
