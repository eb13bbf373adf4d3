"""Background actions on procrastinate's PostgreSQL queue, run by real ``flexorm worker``
processes: every run exactly once, a killed worker's runs retried or interrupted, cancel,
deadline and expiry across processes."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import procrastinate
import pytest
import sqlalchemy as sa
from procrastinate.jobs import Status

from flexorm.background.queue import TASK, conninfo
from flexorm.runtime import Runtime
from tests.integration._background_deploy import HEARTBEAT, ROOT, Workers
from tests.integration._background_shop import (
    calls,
    create_tables,
    item_state,
    make_flex,
    queue,
    run_of,
    signalled,
    wait_for,
)

pytestmark = pytest.mark.postgres

@pytest.fixture
def workers(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workers]:
    monkeypatch.setenv("FLEXORM_TEST_SIGNALS", str(tmp_path))
    create_tables(pg_url)
    pool = Workers(pg_url, tmp_path)
    try:
        yield pool
    finally:
        pool.stop()


def scenario(url: str, body: Callable[[Runtime], Awaitable[None]]) -> None:
    async def main() -> None:
        flex = make_flex(url, background_runner="queue",
                         worker_heartbeat_seconds=float(HEARTBEAT))
        async with flex.runtime() as runtime:
            await body(runtime)

    asyncio.run(main())


async def signal_from(name: str, timeout: float = 60) -> int:
    """The pid of the process that signalled ``name`` (a bound on the wait, not a check)."""
    deadline = time.monotonic() + timeout
    while not signalled(name) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    found = signalled(name)
    assert found, f"nothing signalled {name}"
    return found[0]


def test_fifty_runs_on_two_workers_each_run_exactly_once(workers: Workers) -> None:
    pids = {workers.start().pid, workers.start().pid}
    tags = [f"t{i}" for i in range(50)]

    async def body(runtime: Runtime) -> None:
        ids = [await queue(runtime, "trivial", tag=tag) for tag in tags]
        entries = [await wait_for(runtime, run_id) for run_id in ids]
        assert [(e.status, e.result, e.attempts) for e in entries] == [
            ("succeeded", tag, 1) for tag in tags]

    scenario(workers.url, body)
    done = calls(workers.url, "trivial")
    assert sorted(tag for tag, _ in done) == sorted(tags)
    assert {pid for _, pid in done} <= pids


def test_a_killed_workers_runs_are_interrupted_or_retried_never_left_running(
        workers: Workers) -> None:
    doomed = workers.start(concurrency=2)

    async def body(runtime: Runtime) -> None:
        lost = await queue(runtime, "long", tag="k")
        retried = await queue(runtime, "long_retried", tag="k")
        assert await signal_from("long-k") == doomed.pid
        assert await signal_from("retried-k-1") == doomed.pid
        workers.start()
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        entry = await wait_for(runtime, lost)
        assert (entry.status, entry.error) == ("interrupted",
                                               "its worker stopped mid-run; rolled back")
        again = await wait_for(runtime, retried)
        assert (again.status, again.result, again.attempts) == ("succeeded", "attempt 2", 2)
        assert await signal_from("retried-k-2") != doomed.pid

    scenario(workers.url, body)
    assert item_state(workers.url, 1) == "new"
    assert item_state(workers.url, 2) == "long"
    assert [tag for tag, _ in calls(workers.url, "retried-done")] == ["k"]


def test_a_worker_asked_to_stop_stops_its_running_run_at_once(workers: Workers) -> None:
    """SIGTERM (a deployment, Ctrl-C): the run going on stops at its next statement and is
    interrupted; the worker does not wait for it, whatever its heartbeat (a minute here: the
    queue's own shutdown would have waited until the run was given away)."""
    workers.env["FLEXORM_WORKER_HEARTBEAT_SECONDS"] = "60"
    stopping = workers.start()

    async def body(runtime: Runtime) -> None:
        run = await queue(runtime, "long", tag="t")
        assert await signal_from("long-t") == stopping.pid
        stopping.send_signal(signal.SIGTERM)
        assert stopping.wait(timeout=40) == 0  # a bound on the wait, not a measure
        entry = await wait_for(runtime, run)
        assert entry.status == "interrupted"

    scenario(workers.url, body)
    assert item_state(workers.url, 1) == "new"  # rolled back


def test_a_run_whose_job_was_closed_before_its_recovery_is_still_recovered(
        workers: Workers) -> None:
    """A sweeper closes a dead worker's job, then recovers its run; if it stops in between
    (its process killed, the state database gone for a moment), the run is left ``running``
    with no job. The next sweep of any worker still recovers it: here the job is closed the
    way a sweeper closes it, and nothing recovers the run but another worker's sweep."""
    doomed = workers.start()

    async def body(runtime: Runtime) -> None:
        run_id = await queue(runtime, "long_retried", tag="o")
        assert await signal_from("retried-o-1") == doomed.pid
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        app = procrastinate.App(connector=procrastinate.PsycopgConnector(
            conninfo=conninfo(workers.url)))
        async with app.open_async():
            jobs = [job for job in await app.job_manager.list_jobs_async(task=TASK)
                    if job.task_kwargs["run"] == run_id]
            assert [job.status for job in jobs] == ["doing"]
            assert jobs[0].id is not None
            await app.job_manager.finish_job_by_id_async(jobs[0].id, Status.FAILED,
                                                         delete_job=True)
        assert (await run_of(runtime, run_id)).status == "running"
        workers.start()
        entry = await wait_for(runtime, run_id)
        assert (entry.status, entry.result, entry.attempts) == ("succeeded", "attempt 2", 2)
        assert await signal_from("retried-o-2") != doomed.pid

    scenario(workers.url, body)
    assert [tag for tag, _ in calls(workers.url, "retried-done")] == ["o"]


def test_a_paused_workers_attempt_stops_once_its_run_is_given_away(workers: Workers) -> None:
    """A worker frozen past its heartbeat is presumed dead and its run retried elsewhere; when
    it wakes up, its attempt stops at once (not at its commit) and releases its row locks, which
    the new attempt waits for."""
    paused = workers.start()

    async def body(runtime: Runtime) -> None:
        run_id = await queue(runtime, "long_retried", tag="p")
        assert await signal_from("retried-p-1") == paused.pid
        workers.start()
        paused.send_signal(signal.SIGSTOP)
        try:
            deadline = time.monotonic() + 60
            while (await run_of(runtime, run_id)).attempts < 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        finally:
            paused.send_signal(signal.SIGCONT)
        entry = await wait_for(runtime, run_id)
        assert (entry.status, entry.result, entry.attempts) == ("succeeded", "attempt 2", 2)
        assert await signal_from("retried-p-2") != paused.pid

    scenario(workers.url, body)
    assert item_state(workers.url, 2) == "long"
    assert [tag for tag, _ in calls(workers.url, "retried-done")] == ["p"]


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from flexorm.cli import main; main()", "runs", *args, url],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_cancel_from_the_command_line_stops_a_running_run_and_rolls_it_back(
        workers: Workers) -> None:
    workers.start()

    async def body(runtime: Runtime) -> None:
        run_id = await queue(runtime, "long", tag="x")
        await signal_from("long-x")
        done = await asyncio.to_thread(_cli, workers.url, "cancel", str(run_id))
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"run {run_id}: cancelling")
        entry = await wait_for(runtime, run_id)
        assert (entry.status, entry.error) == ("cancelled",
                                               "the run was cancelled and rolled back")
        again = await asyncio.to_thread(_cli, workers.url, "cancel", str(run_id))
        assert (again.returncode, again.stdout.strip()) == (
            1, f"run {run_id} already ended: cancelled")

    scenario(workers.url, body)
    assert item_state(workers.url, 1) == "new"


def test_deadline_and_expiry_hold_on_workers(workers: Workers) -> None:
    async def body(runtime: Runtime) -> None:
        late = await queue(runtime, "perishable", tag="late")
        await asyncio.sleep(0.6)  # no worker yet: the run waits past its expires_after
        workers.start()
        entry = await wait_for(runtime, late)
        assert (entry.status, entry.error) == ("expired", "not started before it expired")
        fresh = await wait_for(runtime, await queue(runtime, "perishable", tag="fresh"))
        assert fresh.status == "succeeded"
        for action in ("slow", "slow_statement"):
            slow = await wait_for(runtime, await queue(runtime, action))
            assert (slow.status, slow.error) == (
                "failed", "the run passed its deadline of 0.5s and was rolled back")

    scenario(workers.url, body)
    assert [tag for tag, _ in calls(workers.url, "perishable")] == ["fresh"]
    assert (item_state(workers.url, 3), item_state(workers.url, 4)) == ("new", "new")


def test_the_runs_command_shows_background_runs(workers: Workers) -> None:
    workers.start()

    async def body(runtime: Runtime) -> None:
        await wait_for(runtime, await queue(runtime, "touch", ids=(1, 2), tag="shown"))

    scenario(workers.url, body)
    shown = _cli(workers.url, "--json")
    assert shown.returncode == 0, shown.stderr
    import json

    (entry,) = json.loads(shown.stdout)
    assert (entry["status"], entry["background"], entry["result"], entry["progress"]) == (
        "succeeded", True, 2, {"done": 2, "total": 2, "message": "item 2"})




def _drop_connections(url: str) -> int:
    """Close every other connection to the database, as a restart of the server would."""
    from tests.integration._background_shop import sync_engine

    engine = sync_engine(url)
    with engine.connect() as conn:
        dropped = conn.execute(sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
    engine.dispose()
    return int(dropped)


def test_a_worker_keeps_running_runs_after_its_connections_are_dropped(
        workers: Workers) -> None:
    workers.start(concurrency=1)

    async def body(runtime: Runtime) -> None:
        first = await wait_for(runtime, await queue(runtime, "trivial", tag="before"))
        assert first.status == "succeeded"
        assert await asyncio.to_thread(_drop_connections, workers.url) > 0
        after = await wait_for(runtime, await queue(runtime, "trivial", tag="after"))
        assert (after.status, after.result, after.attempts) == ("succeeded", "after", 1)

    scenario(workers.url, body)
    assert [tag for tag, _ in calls(workers.url, "trivial")] == ["before", "after"]


def test_a_claim_sent_again_after_a_lost_answer_is_the_same_claim(pg_url: str) -> None:
    create_tables(pg_url)

    async def body(runtime: Runtime) -> None:
        assert runtime.journal is not None
        runs = runtime.journal.background
        run_id = await queue(runtime, "trivial", tag="lost")
        async with runtime.journal.engine.begin() as conn:
            first = await runs.claim(conn, run_id, "worker:a")
        async with runtime.journal.engine.begin() as conn:
            again = await runs.claim(conn, run_id, "worker:a", reclaim=True)
            other = await runs.claim(conn, run_id, "worker:b", reclaim=True)
            plain = await runs.claim(conn, run_id, "worker:a")
        assert (first.outcome, first.attempt) == ("claimed", 1)
        assert (again.outcome, again.attempt, again.payload) == ("claimed", 1, first.payload)
        assert (other.outcome, other.status) == ("not_queued", "running")
        assert (plain.outcome, plain.status) == ("not_queued", "running")

    scenario(pg_url, body)
