"""An app with background actions, and helpers to queue runs and wait for them, shared by the
embedded-runner tests and the queue tests (whose workers import this module as their app)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from flexorm import ActionContext, ActionError, Flex, Settings
from flexorm.auth.caller import Caller
from flexorm.journal.entry import RunEntry
from flexorm.journal.tables import FINISHED_STATUSES, action_runs
from flexorm.protocol.requests import ExecuteRequest
from flexorm.runtime import Runtime
from tests.conftest import sync_engine

TOKEN = "background-test-key"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CALLER = Caller(kind="key", key_name="key-1")
LOOPS = 6000
"""How many progress steps a 'long' body takes at most (0.01 s each): it is meant to be
stopped long before."""


def create_tables(url: str) -> None:
    engine = sync_engine(url)
    with engine.begin() as conn:
        serial = {"postgresql": "SERIAL", "mysql": "INTEGER AUTO_INCREMENT"}.get(
            conn.dialect.name, "INTEGER")
        conn.exec_driver_sql("CREATE TABLE items (id INTEGER PRIMARY KEY, "
                             "state VARCHAR(20) NOT NULL)")
        conn.exec_driver_sql(f"CREATE TABLE calls (id {serial} PRIMARY KEY, "
                             "action VARCHAR(30) NOT NULL, tag VARCHAR(60), pid INTEGER)")
        conn.execute(sa.text("INSERT INTO items VALUES (:id, 'new')"),
                     [{"id": i} for i in range(1, 11)])
    engine.dispose()


def _call(session: Any, action: str, tag: str | None = None) -> None:
    session.execute(sa.text("INSERT INTO calls (action, tag, pid) VALUES (:a, :t, :p)"),
                    {"a": action, "t": tag, "p": os.getpid()})


def signals_dir() -> Path:
    return Path(os.environ.get("FLEXORM_TEST_SIGNALS", "."))


def _signal(name: str) -> None:
    """Say, outside the run's transaction (a file: SQLite has one writer), that a body got
    this far."""
    (signals_dir() / f"{name}.{os.getpid()}").touch()


def signalled(name: str) -> list[int]:
    """The pids of the processes that signalled ``name``."""
    return [int(path.suffix[1:]) for path in signals_dir().glob(f"{name}.*")]


def make_flex(url: str, **settings: Any) -> Flex:
    options: dict[str, Any] = {"tokens": (TOKEN,), "auto_upgrade": True, "journal": True}
    options.update(settings)
    flex = Flex(url, settings=Settings(**options))

    @flex.action(model="items", for_instance=True, bulk=True, background=True)
    def touch(items: list[Any], ctx: ActionContext, tag: str = "") -> int:
        for done, item in enumerate(items, 1):
            item.state = "touched"
            ctx.progress(done, len(items), f"item {item.id}")
        _call(ctx.session, "touch", tag)
        return len(items)

    @flex.action(background=True)
    async def trivial(ctx: ActionContext, tag: str = "") -> str:
        await ctx.session.execute(
            sa.text("INSERT INTO calls (action, tag, pid) VALUES ('trivial', :t, :p)"),
            {"t": tag, "p": os.getpid()})
        return tag

    @flex.action(model="items", for_instance=True, background=True)
    def explode(item: Any, ctx: ActionContext) -> None:
        item.state = "exploded"
        _call(ctx.session, "explode")
        raise ActionError("the mail server is down")

    @flex.action(model="items", for_instance=True, background=True)
    def odd_progress(item: Any, ctx: ActionContext) -> str:
        """Reports progress in text no database column takes: a NUL and a lone surrogate."""
        item.state = "odd"
        ctx.progress(1, 1, f"item\x00 {item.id} \ud800")
        return "done"

    @flex.action(model="items", for_instance=True, background=True)
    def odd_failure(item: Any, ctx: ActionContext, huge: bool = False) -> None:
        item.state = "odd"
        if huge:
            ctx.progress(2**63)  # beyond the journal's 64-bit column
        raise RuntimeError("the mail\x00server is \udfff down")

    def work(ctx: ActionContext, tag: str) -> None:
        _signal(f"long-{tag}")
        for step in range(LOOPS):
            ctx.progress(step, LOOPS, "working")
            time.sleep(0.01)

    @flex.action(background=True, retries=0)
    def long(ctx: ActionContext, tag: str = "") -> None:
        """Writes, says it started (outside its transaction), then works until stopped."""
        ctx.session.execute(sa.text("UPDATE items SET state = 'long' WHERE id = 1"))
        work(ctx, tag)

    @flex.action(background=True, writes=False)
    def count_items(ctx: ActionContext) -> int:
        """Reads, then pauses while still in its read transaction: runs of it overlap."""
        count = int(ctx.session.execute(sa.text("SELECT COUNT(*) FROM items")).scalar_one())
        ctx.progress(1, 1, "counted")
        time.sleep(0.05)
        return count

    @flex.action(background=True, retries=0, writes=False)
    def long_reader(ctx: ActionContext, tag: str = "") -> None:
        """Like ``long``, reading only: it leaves SQLite's one write lock free for other runs
        (a writing action holds it from its start)."""
        work(ctx, tag)

    @flex.action(background=True, retries=1)
    def long_retried(ctx: ActionContext, tag: str = "") -> str:
        """Like ``long`` on its first attempt; its second attempt finishes."""
        ctx.session.execute(sa.text("UPDATE items SET state = 'long' WHERE id = 2"))
        _signal(f"retried-{tag}-{ctx.run.attempt if ctx.run else 0}")
        assert ctx.run is not None
        if ctx.run.attempt == 1:
            for step in range(LOOPS):
                ctx.progress(step, LOOPS)
                time.sleep(0.01)
        _call(ctx.session, "retried-done", tag)
        return f"attempt {ctx.run.attempt}"

    @flex.action(background=True, deadline=0.5)
    def slow(ctx: ActionContext) -> None:
        ctx.session.execute(sa.text("UPDATE items SET state = 'slow' WHERE id = 3"))
        for step in range(LOOPS):
            ctx.progress(step)
            time.sleep(0.01)

    @flex.action(background=True, deadline=0.5)
    def slow_statement(ctx: ActionContext) -> None:
        ctx.session.execute(sa.text("UPDATE items SET state = 'slow' WHERE id = 4"))
        postgres = ctx.session.get_bind().dialect.name == "postgresql"
        ctx.session.execute(sa.text("SELECT pg_sleep(3600)" if postgres else "SELECT SLEEP(3600)"))

    @flex.action(model="items", for_instance=True, background=True, atomic=False, retries=1)
    def chunked(item: Any, ctx: ActionContext) -> str:
        """Commits chunk by chunk; its first attempt stops at item 7 until stopped."""
        assert ctx.run is not None
        if item.id == 7 and ctx.run.attempt == 1:
            _signal("chunked-stuck")
            for step in range(LOOPS):
                ctx.progress(step)
                time.sleep(0.01)
        item.state = f"done-{ctx.run.attempt}"
        return f"{item.id}@{ctx.run.attempt}"

    @flex.action(model="items", for_instance=True, bulk=True, background=True, atomic=False)
    def chunked_bulk(items: list[Any], ctx: ActionContext) -> int:
        for item in items:
            item.state = "bulk"
        return len(items)

    @flex.action(background=True)
    def gated(ctx: ActionContext, tag: str = "", fail: bool = False) -> str:
        """Writes, says it started, then returns (``fail``: raises) once the test creates
        ``go-<tag>``."""
        _call(ctx.session, "gated", tag)
        _signal(f"gated-{tag}")
        for _step in range(LOOPS):
            if (signals_dir() / f"go-{tag}").exists():
                if fail:
                    raise ActionError(f"{tag} was told to fail")
                return tag
            ctx.progress(0)
            time.sleep(0.01)
        raise ActionError("the test never let it finish")

    @flex.action(background=True)
    def export(ctx: ActionContext, size: int) -> str:
        """Answers ``size`` characters (its JSON: 2 more)."""
        _call(ctx.session, "export")
        return "x" * size

    @flex.action(background=True, writes=False)
    def export_reading(ctx: ActionContext, size: int) -> str:
        """``export``, reading only: on SQLite, its completion is written after its
        transaction."""
        return "x" * size

    @flex.action(model="items", for_instance=True, bulk=True, background=True, atomic=False)
    def chunked_export(items: list[Any], ctx: ActionContext, size: int) -> str:
        """Commits chunk by chunk, each chunk answering ``size`` characters."""
        for item in items:
            item.state = "exported"
        return "x" * size

    @flex.action(background=True, expires_after=0.3)
    def perishable(ctx: ActionContext, tag: str = "") -> None:
        _call(ctx.session, "perishable", tag)

    return flex


async def queue(runtime: Runtime, action: str, *, ids: tuple[Any, ...] | None = None,
                key: str | None = None, model: str | None = None, **params: Any) -> int:
    """Queue a run the way ``execute_action`` does; its run id."""
    answer = await runtime.actions.execute(
        ExecuteRequest(action=action, model=model or ("items" if ids else None), ids=ids,
                       params=params),
        caller=CALLER, idempotency_key=key)
    assert answer["result"]["status"] == "queued", answer
    return int(answer["result"]["run"])


async def run_of(runtime: Runtime, run_id: int) -> RunEntry:
    assert runtime.journal is not None
    async with runtime.journal.engine.connect() as conn:
        entry = await runtime.journal.background.get(conn, run_id)
    assert entry is not None
    return entry


async def wait_for(runtime: Runtime, run_id: int, statuses: tuple[str, ...] = FINISHED_STATUSES,
                   timeout: float = 60) -> RunEntry:
    """The run once its status is one of ``statuses`` (a bound on the wait, not a check)."""
    deadline = time.monotonic() + timeout
    while True:
        entry = await run_of(runtime, run_id)
        if entry.status in statuses or time.monotonic() > deadline:
            return entry
        await asyncio.sleep(0.05)


def calls(url: str, action: str) -> list[tuple[str | None, int]]:
    engine = sync_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT tag, pid FROM calls WHERE action = :a ORDER BY id"),
                            {"a": action}).all()
    engine.dispose()
    return [(row.tag, row.pid) for row in rows]


def item_state(url: str, item_id: int) -> str:
    engine = sync_engine(url)
    with engine.connect() as conn:
        state = conn.execute(sa.text("SELECT state FROM items WHERE id = :i"),
                             {"i": item_id}).scalar_one()
    engine.dispose()
    return str(state)


def leave_running(url: str, run_id: int, worker: str = "server:gone:1:dead",
                  running_at: dt.datetime | None = None) -> None:
    """Mark a queued run running under the process ``worker``, from ``running_at``: what a
    server killed mid-run leaves behind (the row running, its writes gone), or a server that
    runs it still."""
    engine = sync_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(action_runs.update().where(action_runs.c.id == run_id).values(
                status="running", attempts=1, worker=worker, running_at=running_at))
    finally:
        engine.dispose()
