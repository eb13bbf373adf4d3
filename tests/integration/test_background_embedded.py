"""Background actions run by the server process itself (the default without a PostgreSQL
state database): the behaviour every runner shares, on real SQLite, PostgreSQL and MariaDB
databases."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import sqlalchemy as sa

from flexorm import ActionContext
from flexorm.background import embedded
from flexorm.background.embedded import EmbeddedRunner
from flexorm.background.executor import RunExecutor
from flexorm.background.processes import worker_name
from flexorm.exceptions import ConfigurationError, IdempotencyConflict, ValidationError
from flexorm.journal.entry import RunEntry
from flexorm.journal.tables import action_runs
from flexorm.protocol.requests import ExecuteRequest
from flexorm.runtime import Runtime
from tests.integration._background_shop import (
    CALLER,
    calls,
    create_tables,
    item_state,
    leave_running,
    make_flex,
    queue,
    run_of,
    signalled,
    wait_for,
)


@pytest.fixture(autouse=True)
def _signals(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEXORM_TEST_SIGNALS", str(tmp_path))


def scenario(url: str, body: Callable[[Runtime], Awaitable[None]], **settings: Any) -> None:
    create_tables(url)
    settings.setdefault("background_runner", "embedded")

    async def main() -> None:
        async with make_flex(url, **settings).runtime() as runtime:
            await body(runtime)

    asyncio.run(main())


def test_a_background_run_answers_queued_then_succeeds_with_progress(any_url: str) -> None:
    async def body(runtime: Runtime) -> None:
        run_id = await queue(runtime, "touch", ids=(1, 2, 3), tag="a")
        entry = await wait_for(runtime, run_id)
        assert (entry.status, entry.result, entry.error) == ("succeeded", 3, None)
        assert (entry.progress_done, entry.progress_total, entry.progress_message) == (
            3, 3, "item 3")
        assert entry.background
        assert entry.attempts == 1
        assert entry.finished_at is not None
        assert (entry.action, entry.collection, entry.ids, entry.caller_key_name) == (
            "touch", "items", (1, 2, 3), "key-1")

    scenario(any_url, body)
    assert calls(any_url, "touch") == [("a", calls(any_url, "touch")[0][1])]
    assert [item_state(any_url, i) for i in (1, 2, 3, 4)] == ["touched"] * 3 + ["new"]


def test_read_only_runs_at_the_same_time_all_succeed(any_url: str) -> None:
    """On SQLite each run held the read lock while its completion wanted the write lock: all
    but one failed with "records are in use"."""
    async def body(runtime: Runtime) -> None:
        runs = [await queue(runtime, "count_items") for _ in range(4)]
        entries = [await wait_for(runtime, run) for run in runs]
        assert [(e.status, e.result, e.progress_done) for e in entries] == [
            ("succeeded", 10, 1)] * 4

    scenario(any_url, body, background_concurrency=4)


def test_a_result_over_the_limit_succeeds_with_a_note_in_its_place(any_url: str) -> None:
    """Written in the run's own transaction, and after it (an action that only reads: on
    SQLite its completion waits for the commit)."""
    async def body(runtime: Runtime) -> None:
        written = await wait_for(runtime, await queue(runtime, "export", size=5000))
        reading = await wait_for(runtime, await queue(runtime, "export_reading", size=3000))
        kept = await wait_for(runtime, await queue(runtime, "export", size=998))
        assert [(e.status, e.result, e.error) for e in (written, reading, kept)] == [
            ("succeeded", None, "result of 5,002 bytes not kept: larger than "
                                "journal_result_limit (1,000)"),
            ("succeeded", None, "result of 3,002 bytes not kept: larger than "
                                "journal_result_limit (1,000)"),
            ("succeeded", "x" * 998, None)]

    scenario(any_url, body, journal_result_limit=1000)
    assert len(calls(any_url, "export")) == 2  # each ran once, and committed


def test_chunks_results_past_the_limit_are_left_out_of_the_checkpoint(any_url: str) -> None:
    """``atomic=False``: the checkpoint keeps the chunks' results while they fit the limit
    together; a chunk past it keeps its ids, and its result is left out."""
    async def body(runtime: Runtime) -> None:
        run_id = await queue(runtime, "chunked_export", ids=tuple(range(1, 10)), size=400)
        entry = await wait_for(runtime, run_id)
        assert (entry.status, entry.result) == ("succeeded", ["x" * 400, "x" * 400, None])
        assert entry.error == ("the result of 1 of its chunks is left out: with it, the chunks' "
                               "results were larger than journal_result_limit (1,000)")
        assert runtime.journal is not None
        async with runtime.journal.engine.connect() as conn:
            checkpoint = (await conn.execute(sa.select(action_runs.c.checkpoint).where(
                action_runs.c.id == run_id))).scalar_one()
        assert checkpoint == {"ids": list(range(1, 10)), "results": entry.result}

    scenario(any_url, body, journal_result_limit=1000, chunk_size=3)
    assert [item_state(any_url, i) for i in range(1, 11)] == ["exported"] * 9 + ["new"]


@pytest.mark.mariadb
def test_a_result_beyond_mariadbs_packet_succeeds_in_the_background(mariadb_url: str) -> None:
    """The default limit: the completion kept a result beyond the one packet MariaDB takes,
    in the run's transaction, and the run could never succeed."""
    async def body(runtime: Runtime) -> None:
        async with runtime.database.engine.connect() as conn:
            packet = int((await conn.execute(sa.text("SELECT @@max_allowed_packet"))).scalar_one())
        size = packet + 4 * 1024 * 1024
        entry = await wait_for(runtime, await queue(runtime, "export", size=size))
        assert (entry.status, entry.result, entry.attempts) == ("succeeded", None, 1)
        assert entry.error == (f"result of {size + 2:,} bytes not kept: larger than "
                               "journal_result_limit (1,048,576)")
        chunked = await wait_for(runtime, await queue(runtime, "chunked_export", ids=(1, 2),
                                                      size=size))
        assert (chunked.status, chunked.result) == ("succeeded", [None])

    scenario(mariadb_url, body)
    assert len(calls(mariadb_url, "export")) == 1
    assert [item_state(mariadb_url, i) for i in (1, 2, 3)] == ["exported"] * 2 + ["new"]


def test_bad_input_is_refused_before_anything_is_queued(db_url: str) -> None:
    async def body(runtime: Runtime) -> None:
        with pytest.raises(ValidationError, match="no items record with id 99"):
            await queue(runtime, "touch", ids=(1, 99))
        with pytest.raises(ValidationError, match="tag"):
            await queue(runtime, "touch", ids=(1,), tag=["not", "text"])
        assert runtime.journal is not None
        async with runtime.journal.engine.connect() as conn:
            statuses = (await conn.execute(sa.select(action_runs.c.status))).scalars().all()
        assert sorted(statuses) == ["rejected", "rejected"]

    scenario(db_url, body)
    assert calls(db_url, "touch") == []


def test_the_same_idempotency_key_queues_one_run(db_url: str) -> None:
    async def body(runtime: Runtime) -> None:
        first = await queue(runtime, "touch", ids=(1,), tag="k", key="key-1")
        again = await queue(runtime, "touch", ids=(1,), tag="k", key="key-1")
        assert again == first
        with pytest.raises(IdempotencyConflict):
            await queue(runtime, "touch", ids=(2,), tag="k", key="key-1")
        assert (await wait_for(runtime, first)).status == "succeeded"
        assert await queue(runtime, "touch", ids=(1,), tag="k", key="key-1") == first

    scenario(db_url, body)
    assert len(calls(db_url, "touch")) == 1


def test_a_failing_run_is_failed_and_rolled_back(db_url: str) -> None:
    async def body(runtime: Runtime) -> None:
        entry = await wait_for(runtime, await queue(runtime, "explode", ids=(5,)))
        assert (entry.status, entry.error) == ("failed", "the mail server is down")

    scenario(db_url, body)
    assert calls(db_url, "explode") == []
    assert item_state(db_url, 5) == "new"


def test_text_no_column_takes_in_progress_or_an_error_is_kept_as_u_fffd(any_url: str) -> None:
    """A NUL (PostgreSQL refuses it in text) or a lone surrogate (no driver encodes it) in a
    body's progress message or error neither fails a run nor leaves it ``running``."""
    async def body(runtime: Runtime) -> None:
        done = await wait_for(runtime, await queue(runtime, "odd_progress", ids=(1,)))
        assert (done.status, done.result, done.progress_message) == (
            "succeeded", "done", "item\ufffd 1 \ufffd")
        failed = await wait_for(runtime, await queue(runtime, "odd_failure", ids=(2,)))
        assert (failed.status, failed.error) == (
            "failed", "RuntimeError: the mail\ufffdserver is \ufffd down")
        huge = await wait_for(runtime, await queue(runtime, "odd_failure", ids=(3,),
                                                   huge=True))
        assert (huge.status, huge.error) == (
            "failed", "ValueError: progress done must be below 2**63 in size, not "
            f"{2**63}")

    scenario(any_url, body)
    assert [item_state(any_url, i) for i in (1, 2, 3)] == ["odd", "new", "new"]


def test_cancelling_a_running_run_stops_it_and_rolls_it_back(any_url: str) -> None:
    async def body(runtime: Runtime) -> None:
        run_id = await queue(runtime, "long", tag="c")
        assert (await wait_for(runtime, run_id, ("running",))).status == "running"
        while not signalled("long-c"):
            await asyncio.sleep(0.02)
        answer = await runtime.actions.execute(
            ExecuteRequest(action="flexorm_cancel_run", params={"run": run_id}), caller=CALLER)
        assert answer == {"result": {"run": str(run_id), "status": "cancelling"}}
        entry = await wait_for(runtime, run_id)
        assert (entry.status, entry.error) == ("cancelled", "the run was cancelled and rolled back")
        assert entry.cancel_requested  # on every database, SQLite's run holding its lock too
        assert entry.progress_done is not None
        assert entry.progress_done < 6000

    scenario(any_url, body)
    assert item_state(any_url, 1) == "new"


def test_a_finished_run_shows_its_last_progress_whatever_its_watcher_was_doing(
        sqlite_url: str) -> None:
    """On SQLite a writing run holds the only write lock, so its watcher's progress writes
    fail until the run ends; one still waiting for the lock as the run ends must not keep the
    run's end from writing the last progress. The watcher here polls without a pause, so one
    of its writes is nearly always waiting."""
    create_tables(sqlite_url)
    flex = make_flex(sqlite_url, background_runner="embedded")

    @flex.action(background=True)
    def settle(ctx: ActionContext, steps: int = 3) -> int:
        ctx.session.execute(sa.text("UPDATE items SET state = 'settled' WHERE id = 5"))
        for step in range(1, steps + 1):
            ctx.progress(step, steps, f"step {step}")
        time.sleep(0.3)  # nothing more to report for a while: the watcher keeps trying
        return steps

    async def main() -> None:
        async with flex.host.runtime(purpose="call") as runtime:  # no runner: the test runs it
            assert runtime.journal is not None
            run_id = await queue(runtime, "settle")
            executor = RunExecutor(lambda: runtime.actions, runtime.journal, runtime.database,
                                   worker_name("test"), poll=0.0)
            try:
                assert await executor.execute(run_id) == "succeeded"
            finally:
                await executor.close()
            shown = await runtime.actions.execute(
                ExecuteRequest(action="flexorm_run_status", params={"run": run_id}),
                caller=CALLER)
            assert (shown["result"]["status"], shown["result"]["progress"]) == (
                "succeeded", {"done": 3, "total": 3, "message": "step 3"})

    asyncio.run(main())
    assert item_state(sqlite_url, 5) == "settled"


def test_a_run_cancelled_while_queued_never_runs(db_url: str) -> None:
    async def body(runtime: Runtime) -> None:
        blocker = await queue(runtime, "long_reader", tag="blocker")
        await wait_for(runtime, blocker, ("running",))
        waiting = await queue(runtime, "touch", ids=(6,), tag="never")
        answer = await runtime.actions.execute(
            ExecuteRequest(action="flexorm_cancel_run", params={"run": waiting}), caller=CALLER)
        assert answer["result"]["status"] == "cancelled"
        assert runtime.background is not None
        await runtime.background.cancel(blocker)
        assert (await wait_for(runtime, blocker)).status == "cancelled"
        assert (await run_of(runtime, waiting)).status == "cancelled"

    scenario(db_url, body, background_concurrency=1)
    assert calls(db_url, "touch") == []


def test_a_run_past_its_deadline_fails_and_is_rolled_back(db_url: str) -> None:
    async def body(runtime: Runtime) -> None:
        entry = await wait_for(runtime, await queue(runtime, "slow"))
        assert entry.status == "failed"
        assert entry.error == "the run passed its deadline of 0.5s and was rolled back"

    scenario(db_url, body)
    assert item_state(db_url, 3) == "new"


@pytest.mark.parametrize("server", [pytest.param("pg_url", marks=pytest.mark.postgres),
                                    pytest.param("mariadb_url", marks=pytest.mark.mariadb)])
def test_a_statement_does_not_outlive_the_deadline(server: str,
                                                   request: pytest.FixtureRequest) -> None:
    """On PostgreSQL and MariaDB, a statement still running at the deadline is cancelled."""
    url = str(request.getfixturevalue(server))
    async def body(runtime: Runtime) -> None:
        # the statement sleeps an hour: the run ends within the wait only if it is cut short
        entry = await wait_for(runtime, await queue(runtime, "slow_statement"))
        assert entry.status == "failed"
        assert entry.error == "the run passed its deadline of 0.5s and was rolled back"

    scenario(url, body)
    assert item_state(url, 4) == "new"


def test_a_run_not_started_before_it_expires_never_runs(db_url: str) -> None:
    async def body(runtime: Runtime) -> None:
        blocker = await queue(runtime, "long_reader", tag="blocker")
        await wait_for(runtime, blocker, ("running",))
        late = await queue(runtime, "perishable", tag="late")
        await asyncio.sleep(0.5)
        assert runtime.background is not None
        await runtime.background.cancel(blocker)
        entry = await wait_for(runtime, late)
        assert (entry.status, entry.error) == ("expired", "not started before it expired")
        fresh = await wait_for(runtime, await queue(runtime, "perishable", tag="fresh"))
        assert fresh.status == "succeeded"

    scenario(db_url, body, background_concurrency=1)
    assert [tag for tag, _pid in calls(db_url, "perishable")] == ["fresh"]


def _queued_only(url: str, *runs: tuple[str, str]) -> list[int]:
    """Queue runs of ``(action, tag)`` with the runner stopped, so that none runs; their ids."""

    async def main() -> list[int]:
        flex = make_flex(url, background_runner="embedded")
        async with flex.runtime() as runtime:
            assert runtime.background is not None
            await runtime.background.close()
            return [await queue(runtime, action, tag=tag) for action, tag in runs]

    return asyncio.run(main())


def test_runs_a_stopped_server_left_running_are_interrupted_or_retried(db_url: str) -> None:
    create_tables(db_url)
    ids = _queued_only(db_url, ("long", "dies"), ("long_retried", "retried"))
    for run_id in ids:
        leave_running(db_url, run_id)

    async def restart(runtime: Runtime) -> None:
        interrupted = await wait_for(runtime, ids[0])
        assert interrupted.status == "interrupted"
        retried = await wait_for(runtime, ids[1])
        assert (retried.status, retried.result, retried.attempts) == (
            "succeeded", "attempt 2", 2)

    async def main() -> None:
        flex = make_flex(db_url, background_runner="embedded")
        async with flex.runtime() as runtime:
            await restart(runtime)

    asyncio.run(main())
    assert [tag for tag, _ in calls(db_url, "retried-done")] == ["retried"]
    assert signalled("long-dies") == []


def test_a_server_leaves_alone_the_runs_of_another_live_server_of_its_machine(
        db_url: str) -> None:
    """Two server processes on one machine (uvicorn's workers): one that starts again does
    not take the other's runs for a dead server's; a dead process's runs it recovers."""
    create_tables(db_url)
    ids = _queued_only(db_url, ("long", "sibling's"), ("long", "dead one's"))
    host = socket.gethostname()
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    sibling = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        time.sleep(0.1)
        for run_id, pid in zip(ids, (sibling.pid, int(ended.stdout)), strict=True):
            leave_running(db_url, run_id, f"server:{host}:{pid}:a1b2c3d4",
                          dt.datetime.now(dt.UTC))

        async def restart() -> list[str]:  # the runner recovers as it starts
            flex = make_flex(db_url, background_runner="embedded")
            async with flex.runtime() as runtime:
                return [(await run_of(runtime, run_id)).status for run_id in ids]

        assert asyncio.run(restart()) == ["running", "interrupted"]
    finally:
        sibling.kill()
        sibling.wait()


def test_a_running_server_recovers_the_runs_of_a_server_of_its_machine_that_dies(
        any_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """One of two servers of one machine is killed for good (nothing starts in its place),
    or killed just as the other starts (its parent has not reaped it yet): the runs it left
    ``running`` are recovered by the server that runs on. They stayed ``running`` for ever,
    as only a server's start looked for them."""
    monkeypatch.setattr(embedded, "RECOVER_SECONDS", 0.1)
    create_tables(any_url)
    ids = _queued_only(any_url, ("long", "sibling's"), ("long_retried", "retried"))
    host = socket.gethostname()
    sibling = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        time.sleep(0.1)
        for run_id in ids:
            leave_running(any_url, run_id, f"server:{host}:{sibling.pid}:a1b2c3d4",
                          dt.datetime.now(dt.UTC))

        async def main() -> list[RunEntry]:
            flex = make_flex(any_url, background_runner="embedded")
            async with flex.runtime() as runtime:
                # the sibling's runs are its own while it runs
                assert [(await run_of(runtime, run_id)).status for run_id in ids] == [
                    "running", "running"]
                sibling.kill()  # and not reaped until the test ends: a zombie meanwhile
                return [await wait_for(runtime, run_id) for run_id in ids]

        interrupted, retried = asyncio.run(main())
    finally:
        sibling.kill()
        sibling.wait()
    assert (interrupted.status, interrupted.error) == (
        "interrupted", "its worker stopped mid-run; rolled back")
    assert (retried.status, retried.result, retried.attempts) == ("succeeded", "attempt 2", 2)
    assert [tag for tag, _ in calls(any_url, "retried-done")] == ["retried"]


def test_a_chunked_run_commits_chunk_by_chunk(db_url: str) -> None:
    async def body(runtime: Runtime) -> None:
        entry = await wait_for(runtime, await queue(runtime, "chunked_bulk", ids=(1, 2, 3, 4)))
        assert (entry.status, entry.result) == ("succeeded", [3, 1])

    scenario(db_url, body, chunk_size=3)
    assert [item_state(db_url, i) for i in (1, 4, 5)] == ["bulk", "bulk", "new"]


def test_a_chunked_run_stopped_midway_resumes_after_its_last_committed_chunk(
        db_url: str) -> None:
    create_tables(db_url)
    ids = tuple(range(1, 11))
    queued: list[int] = []

    async def first() -> None:
        flex = make_flex(db_url, background_runner="embedded", chunk_size=3)
        async with flex.runtime() as runtime:
            queued.append(await queue(runtime, "chunked", ids=ids))
            while not signalled("chunked-stuck"):
                await asyncio.sleep(0.02)
        # the server stops mid-run: the chunk going on is rolled back, the run queued again

    asyncio.run(first())
    assert [item_state(db_url, i) for i in ids] == ["done-1"] * 6 + ["new"] * 4

    async def again(runtime: Runtime) -> None:
        entry = await wait_for(runtime, queued[0])
        assert (entry.status, entry.attempts) == ("succeeded", 2)
        assert entry.result == [f"{i}@1" for i in range(1, 7)] + [f"{i}@2" for i in range(7, 11)]

    async def restart() -> None:
        flex = make_flex(db_url, background_runner="embedded", chunk_size=3)
        async with flex.runtime() as runtime:
            await again(runtime)

    asyncio.run(restart())
    assert [item_state(db_url, i) for i in ids] == ["done-1"] * 6 + ["done-2"] * 4


def test_background_options_are_checked_when_declared(sqlite_url: str) -> None:
    flex = make_flex(sqlite_url)
    with pytest.raises(ConfigurationError, match="add background=True"):
        flex.action(deadline=5, name="w")(lambda: None)
    with pytest.raises(ConfigurationError, match="deadline must be a number of seconds"):
        flex.action(background=True, deadline=-1, name="x")(lambda: None)
    with pytest.raises(ConfigurationError, match="atomic=False commits chunk by chunk"):
        flex.action(background=True, atomic=False, name="y")(lambda: None)


def test_background_actions_need_the_journal(sqlite_url: str) -> None:
    create_tables(sqlite_url)
    flex = make_flex(sqlite_url, journal=False)

    async def main() -> None:
        async with flex.runtime():
            pass

    with pytest.raises(ConfigurationError, match="needs flexorm's journal"):
        asyncio.run(main())


def test_a_runner_stopped_just_as_it_is_woken_stops(sqlite_url: str) -> None:
    """A stop that comes as the runner is woken (a run just queued, or just finished) ends
    it. Python 3.11's ``asyncio.wait_for`` lost that stop, and the server's shutdown waited
    for the runner for ever."""
    async def body(runtime: Runtime) -> None:
        assert runtime.journal is not None
        runner = EmbeddedRunner(runtime.journal, runtime.database)
        runner.bind(runtime.actions)
        await runner.start()
        await asyncio.sleep(0.2)  # the runner waits for work
        await runner.queued(0)  # wakes it, and in the same turn of the loop...
        async with asyncio.timeout(60):  # a bound on a hang, not a measure of speed
            await runner.close()  # ...stops it

    scenario(sqlite_url, body)


@pytest.mark.postgres
def test_a_run_that_sends_no_statement_takes_no_connection_and_still_ends_succeeded(
        pg_url: str) -> None:
    """A background run begins its transaction with its first statement: a body that sends
    none (it calls an API, say) checks no connection out of the database's pools, and its end,
    with its result and last progress, is one statement on the connection the process claims
    runs on. A body that writes still commits its end with its writes."""
    create_tables(pg_url)
    flex = make_flex(pg_url, background_runner="embedded")

    @flex.action(background=True)
    def notify(ctx: ActionContext, who: str = "ops") -> str:
        ctx.progress(1, 1, "sent")
        return f"told {who}"

    @flex.action(background=True)
    def settle(ctx: ActionContext) -> str:
        ctx.session.execute(sa.text("UPDATE items SET state = 'settled' WHERE id = 5"))
        return "settled"

    async def main() -> None:
        async with flex.host.runtime(purpose="call") as runtime:  # no runner: the test runs it
            assert runtime.journal is not None
            quiet, writing = await queue(runtime, "notify"), await queue(runtime, "settle")
            checkouts: list[str] = []
            engines = (runtime.database.engine.sync_engine, runtime.database.sync_engine)

            def checked_out(*_: Any) -> None:
                checkouts.append("out")

            for engine in engines:
                sa.event.listen(engine, "checkout", checked_out)
            executor = RunExecutor(lambda: runtime.actions, runtime.journal, runtime.database,
                                   worker_name("test"))
            try:
                assert await executor.execute(writing) == "succeeded"
                assert checkouts  # the claims' connection, then the run's
                checkouts.clear()
                assert await executor.execute(quiet) == "succeeded"
                assert checkouts == []
            finally:
                await executor.close()
                for engine in engines:
                    sa.event.remove(engine, "checkout", checked_out)
            for run_id, result, progress in (
                    (quiet, "told ops", {"done": 1, "total": 1, "message": "sent"}),
                    (writing, "settled", {"done": None, "total": None, "message": None})):
                shown = await runtime.actions.execute(
                    ExecuteRequest(action="flexorm_run_status", params={"run": run_id}),
                    caller=CALLER)
                assert (shown["result"]["status"], shown["result"]["result"],
                        shown["result"]["progress"]) == ("succeeded", result, progress)

    asyncio.run(main())
    assert item_state(pg_url, 5) == "settled"
