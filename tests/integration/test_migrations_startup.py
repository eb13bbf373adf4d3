"""The server's startup check: what it says when flexorm's tables are missing, behind or newer,
and the opt-in upgrade at startup."""

from __future__ import annotations

import anyio
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from flexorm._url import async_url
from flexorm.exceptions import MigrationError
from flexorm.migrations import check_revision, current, ensure_current, head, upgrade
from flexorm.migrations.commands import display_url
from flexorm.migrations.filters import VERSION_TABLE
from flexorm.migrations.startup import Status
from tests.conftest import sync_engine

pytestmark = pytest.mark.anyio


async def test_missing_tables_say_what_to_run(db_url: str) -> None:
    status = await check_revision(db_url)

    assert status.state == "missing"
    assert not status.ok
    assert status.current is None
    assert status.message.endswith(f"run `flexorm db upgrade {status.url}`")
    assert "\n" not in status.message


async def test_current_tables_are_ok_on_the_servers_own_engine(db_url: str) -> None:
    upgrade(db_url)
    engine = create_async_engine(async_url(db_url))
    try:
        status = await check_revision(engine)
        # the engine is the caller's: still usable afterwards
        async with engine.connect() as conn:
            assert (await conn.execute(sa.text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()

    assert status.ok
    assert (status.state, status.current, status.head) == ("current", head(), head())


async def test_a_revision_from_a_newer_flexorm_is_unknown(db_url: str) -> None:
    upgrade(db_url)
    engine = sync_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = 'fromthefuture'"))
    engine.dispose()

    status = await check_revision(db_url)

    assert status.state == "unknown"
    assert "fromthefuture" in status.message
    with pytest.raises(MigrationError, match="newer flexorm"):
        await ensure_current(db_url, auto_upgrade=True)


def test_behind_message_names_both_revisions() -> None:
    status = Status(state="behind", current="aaa", head="bbb", url="postgresql://u:***@h/db")

    assert status.message == ("flexorm's tables in postgresql://u:***@h/db are at revision aaa, "
                              "behind bbb: run `flexorm db upgrade postgresql://u:***@h/db`")


async def test_ensure_current_refuses_missing_tables_without_auto_upgrade(db_url: str) -> None:
    with pytest.raises(MigrationError, match="flexorm db upgrade"):
        await ensure_current(db_url)
    assert current(db_url) is None


def test_password_is_never_in_the_message() -> None:
    assert display_url("postgresql+psycopg://app:hunter2@db/shop") == (
        "postgresql+psycopg://app:***@db/shop")


async def test_concurrent_starters_with_auto_upgrade_all_start(db_url: str) -> None:
    statuses: list[Status] = []

    async def start() -> None:
        statuses.append(await ensure_current(db_url, auto_upgrade=True))

    async with anyio.create_task_group() as group:
        for _ in range(4):
            group.start_soon(start)

    assert [s.state for s in statuses] == ["current"] * 4
    assert current(db_url) == head()
