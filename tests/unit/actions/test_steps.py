"""One implementation, two drivers: the same steps give the same answers in a worker thread and on
the event loop, and an error a step raises is thrown back in where the step was yielded."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.to_thread
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Session

from flexorm.actions.steps import Blocking, Settle, Steps, run, run_blocking


def _count(session: Session, table: str) -> int:
    return int(session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


async def _later(value: Any) -> Any:
    await anyio.sleep(0)
    return value


def _failing(_session: Session) -> None:
    raise LookupError("no such row")


def _steps() -> Steps[list[Any]]:
    seen: list[Any] = []
    seen.append((yield Blocking(_count, ("sqlite_master",))))
    seen.append((yield Settle(41 + 1)))
    seen.append((yield Settle(_later("awaited"))))
    try:
        yield Blocking(_failing)
    except LookupError as error:
        seen.append(f"caught: {error}")
    return seen


EXPECTED = [0, 42, "awaited", "caught: no such row"]


def test_both_drivers_run_the_same_steps_alike(tmp_path):
    url = f"sqlite:///{tmp_path / 'steps.db'}"
    engine = create_async_engine(url.replace("sqlite://", "sqlite+aiosqlite://"))
    blocking_engine = sa.create_engine(url)

    def in_thread() -> list[Any]:
        with Session(blocking_engine) as session:
            return run_blocking(_steps(), session)

    async def main() -> tuple[list[Any], list[Any]]:
        from sqlalchemy.ext.asyncio import AsyncSession

        async with AsyncSession(engine) as session:
            on_loop = await run(_steps(), session)
        from_thread = await anyio.to_thread.run_sync(in_thread)
        await engine.dispose()
        return on_loop, from_thread

    on_loop, from_thread = anyio.run(main)
    blocking_engine.dispose()
    assert on_loop == EXPECTED
    assert from_thread == EXPECTED


def test_an_error_the_steps_do_not_catch_reaches_the_caller():
    def steps() -> Steps[None]:
        yield Settle(None)
        raise ValueError("the body failed")

    with pytest.raises(ValueError, match="the body failed"):
        run_blocking(steps())
    with pytest.raises(ValueError, match="the body failed"):
        anyio.run(run, steps())
