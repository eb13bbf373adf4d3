"""Retention of runs: ``flexorm runs prune --older-than`` and the ``run_retention_days``
setting delete finished runs past an age, never queued or running ones; the ``runs``
command's table shows a background run's progress."""

from __future__ import annotations

import asyncio
import datetime as dt

import sqlalchemy as sa
from click.testing import CliRunner

from flexorm.background.sweep import expire_and_prune
from flexorm.cli import main
from flexorm.journal.tables import action_runs
from flexorm.runtime import Runtime
from tests.conftest import sync_engine
from tests.integration._background_shop import create_tables, make_flex, queue, wait_for


def _age(url: str, run_ids: list[int], days: int) -> None:
    engine = sync_engine(url)
    with engine.begin() as conn:
        conn.execute(action_runs.update().where(action_runs.c.id.in_(run_ids))
                     .values(started_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=days)))
    engine.dispose()


def _statuses(url: str) -> dict[int, str]:
    engine = sync_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(action_runs.c.id, action_runs.c.status)).all()
    engine.dispose()
    return {row.id: row.status for row in rows}


def _runs(url: str, **settings: object) -> tuple[list[int], int]:
    """Three finished runs and one queued run (its runner stopped first)."""
    create_tables(url)
    finished: list[int] = []
    waiting: list[int] = []

    async def main_() -> None:
        flex = make_flex(url, background_runner="embedded", **settings)
        async with flex.runtime() as runtime:
            for tag in ("a", "b", "c"):
                finished.append(await queue(runtime, "trivial", tag=tag))
            for run_id in finished:
                await wait_for(runtime, run_id)
            assert runtime.background is not None
            await runtime.background.close()
            waiting.append(await queue(runtime, "trivial", tag="waiting"))

    asyncio.run(main_())
    return finished, waiting[0]


def test_prune_deletes_finished_runs_older_than_asked(db_url: str) -> None:
    finished, waiting = _runs(db_url)
    _age(db_url, [*finished[:2], waiting], days=40)
    result = CliRunner().invoke(main, ["runs", "prune", "--older-than", "30d", db_url],
                                catch_exceptions=False)
    assert (result.exit_code, result.output) == (0, "2 runs deleted\n")
    assert _statuses(db_url) == {finished[2]: "succeeded", waiting: "queued"}
    bad = CliRunner().invoke(main, ["runs", "prune", "--older-than", "soon", db_url])
    assert bad.exit_code == 2
    assert "--older-than must look like 30d, 12h or 90m, not 'soon'" in bad.output


def test_the_retention_setting_prunes_as_runs_are_swept(db_url: str) -> None:
    finished, waiting = _runs(db_url)
    _age(db_url, [finished[0], waiting], days=8)

    async def sweep(runtime: Runtime) -> None:
        assert runtime.journal is not None
        await expire_and_prune(runtime.journal, runtime.settings.run_retention_days)

    async def main_() -> None:
        flex = make_flex(db_url, background_runner="embedded", run_retention_days=7)
        async with flex.runtime() as runtime:
            assert runtime.background is not None
            await runtime.background.close()
            await sweep(runtime)

    asyncio.run(main_())
    assert _statuses(db_url) == {finished[1]: "succeeded", finished[2]: "succeeded",
                                 waiting: "queued"}


def test_cancel_answers_for_unknown_and_queued_runs(sqlite_url: str) -> None:
    _finished, waiting = _runs(sqlite_url)
    unknown = CliRunner().invoke(main, ["runs", "cancel", "999", sqlite_url])
    assert (unknown.exit_code, unknown.output) == (2, "Error: there is no background run 999\n")
    done = CliRunner().invoke(main, ["runs", "cancel", str(waiting), sqlite_url])
    assert (done.exit_code, done.output) == (0, f"run {waiting}: cancelled (it had not started)\n")
    assert _statuses(sqlite_url)[waiting] == "cancelled"
    table = CliRunner().invoke(main, ["runs", sqlite_url, "--status", "cancelled"],
                               env={"COLUMNS": "200"})
    assert "cancelled before it started" in table.output
