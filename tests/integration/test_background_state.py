"""Background actions with a separate state database, deployed as a user runs them: the data
in a SQLite file or on MariaDB, flexorm's journal and procrastinate's queue on PostgreSQL
(``FLEXORM_STATE_URL``, migrated by ``flexorm db upgrade``), ``flexorm serve`` queuing the runs
Jet Admin asks for, and two ``flexorm worker`` processes running them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from flexorm.journal.tables import FINISHED_STATUSES
from tests._serving import at_once
from tests.conftest import mariadb_database, pg_database, sync_engine
from tests.integration._background_deploy import (
    StateJournal,
    Workers,
    cli,
    execute,
    queued_run,
    server,
    signal_from,
)
from tests.integration._background_shop import LOOPS, calls, create_tables, item_state

pytestmark = pytest.mark.postgres


@dataclass(frozen=True)
class Deployment:
    data: str
    """The database the actions write to."""
    state: str
    """flexorm's state database (PostgreSQL)."""
    env: dict[str, str]
    """The ``FLEXORM_*`` variables every process runs with."""
    base: str
    """The server's base URL."""
    journal: StateJournal
    pool: Workers
    signals: Path

    @property
    def workers(self) -> frozenset[int]:
        """The workers' pids."""
        return frozenset(process.pid for process in self.pool.processes)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("mariadb",
                                                               marks=pytest.mark.mariadb)])
def deployment(request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    folder = tmp_path_factory.mktemp(f"state-{request.param}")
    with contextlib.ExitStack() as stack:
        state = stack.enter_context(pg_database(request.getfixturevalue("postgres_server")))
        if request.param == "sqlite":
            data = f"sqlite:///{folder / 'shop.db'}"
        else:
            data = stack.enter_context(
                mariadb_database(request.getfixturevalue("mariadb_server")))
        create_tables(data)
        env = {"FLEXORM_DATABASE_URL": data, "FLEXORM_STATE_URL": state,
               "FLEXORM_AUTO_UPGRADE": "0", "FLEXORM_TEST_SIGNALS": str(folder)}
        upgraded = cli("db", "upgrade", env=env)  # no URL: the state database
        assert upgraded.returncode == 0, upgraded.stderr
        workers = Workers(data, folder, env)
        stack.callback(workers.stop)
        workers.start()
        workers.start()
        journal = StateJournal(state)
        stack.callback(journal.close)
        base = stack.enter_context(server(env, folder / "server.log"))
        yield Deployment(data, state, env, base, journal, workers, folder)


def _tables(url: str) -> set[str]:
    engine = sync_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_state_lives_in_its_own_database(deployment: Deployment) -> None:
    assert _tables(deployment.data) == {"items", "calls"}
    state = _tables(deployment.state)
    assert {"flexorm_action_runs", "flexorm_idempotency", "procrastinate_jobs"} <= state
    assert "items" not in state


def test_many_runs_on_two_workers_each_run_once_and_succeed(deployment: Deployment) -> None:
    tags = [f"t{i}" for i in range(30)]
    answers = at_once([lambda tag=tag: execute(deployment.base, "trivial", tag=tag)
                       for tag in tags])
    ids = [queued_run(answer) for answer in answers]
    touched = queued_run(execute(deployment.base, "touch", ids=[7, 8], tag="shown"))
    chunked = queued_run(execute(deployment.base, "chunked_bulk", ids=[9, 10]))
    assert len({*ids, touched, chunked}) == len(tags) + 2

    entries = [deployment.journal.wait_for(run_id) for run_id in ids]
    assert [(e.status, e.result, e.attempts) for e in entries] == [
        ("succeeded", tag, 1) for tag in tags]
    done = calls(deployment.data, "trivial")
    assert sorted(tag for tag, _ in done) == sorted(tags)
    assert {pid for _, pid in done} <= deployment.workers

    touch = deployment.journal.wait_for(touched)
    assert (touch.status, touch.result) == ("succeeded", 2)
    assert (touch.progress_done, touch.progress_total, touch.progress_message) == (
        2, 2, "item 8")
    bulk = deployment.journal.wait_for(chunked)
    assert (bulk.status, bulk.result) == ("succeeded", [2])
    assert deployment.journal.column(chunked, "checkpoint") == {"ids": [9, 10], "results": [2]}
    assert [item_state(deployment.data, i) for i in (7, 8, 9, 10, 6)] == [
        "touched", "touched", "bulk", "bulk", "new"]

    shown = cli("runs", "--json", "--limit", "100", env=deployment.env)
    assert shown.returncode == 0, shown.stderr
    listed = {entry["id"]: entry for entry in json.loads(shown.stdout)}
    every = [*ids, touched, chunked]
    assert {run_id: listed[run_id]["status"] for run_id in every} == dict.fromkeys(
        every, "succeeded")
    assert listed[touched]["background"] is True
    assert listed[touched]["progress"] == {"done": 2, "total": 2, "message": "item 8"}


def test_cancel_stops_a_running_run_and_rolls_back_its_writes(deployment: Deployment) -> None:
    run_id = queued_run(execute(deployment.base, "long", tag="c"))
    assert signal_from(deployment.signals, "long-c") in deployment.workers
    running = deployment.journal.wait_for(
        run_id, ("running",), until=lambda entry: (entry.progress_done or 0) > 0)
    assert (running.status, running.progress_total, running.progress_message) == (
        "running", LOOPS, "working")
    assert execute(deployment.base, "flexorm_cancel_run", run=run_id) == (
        200, {"result": {"run": str(run_id), "status": "cancelling"}})
    entry = deployment.journal.wait_for(run_id)
    assert (entry.status, entry.error) == ("cancelled", "the run was cancelled and rolled back")
    assert entry.progress_done is not None
    assert entry.progress_done < LOOPS
    assert item_state(deployment.data, 1) == "new"


def test_a_failing_body_ends_failed_with_its_writes_rolled_back(
        deployment: Deployment) -> None:
    entry = deployment.journal.wait_for(
        queued_run(execute(deployment.base, "explode", ids=[5])))
    assert (entry.status, entry.error) == ("failed", "the mail server is down")
    assert item_state(deployment.data, 5) == "new"
    assert calls(deployment.data, "explode") == []


def test_a_run_past_its_deadline_is_stopped_and_rolled_back(deployment: Deployment) -> None:
    entry = deployment.journal.wait_for(queued_run(execute(deployment.base, "slow")))
    assert (entry.status, entry.error) == (
        "failed", "the run passed its deadline of 0.5s and was rolled back")
    assert item_state(deployment.data, 3) == "new"


def test_the_same_idempotency_key_queues_one_run(deployment: Deployment) -> None:
    first = queued_run(execute(deployment.base, "trivial", tag="once", key="state-key"))
    again = queued_run(execute(deployment.base, "trivial", tag="once", key="state-key"))
    assert again == first
    assert deployment.journal.wait_for(first).status == "succeeded"
    assert queued_run(execute(deployment.base, "trivial", tag="once", key="state-key")) == first
    assert [tag for tag, _ in calls(deployment.data, "trivial")].count("once") == 1
    assert [run.id for run in deployment.journal.runs("trivial")
            if run.idempotency_key == "state-key"] == [first]


def test_a_killed_workers_run_is_interrupted_and_rolled_back(deployment: Deployment) -> None:
    run_id = queued_run(execute(deployment.base, "long", tag="k"))
    pid = signal_from(deployment.signals, "long-k")
    (doomed,) = [process for process in deployment.pool.processes if process.pid == pid]
    deployment.pool.start()  # its replacement
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    entry = deployment.journal.wait_for(run_id)
    assert (entry.status, entry.error) == ("interrupted",
                                           "its worker stopped mid-run; rolled back")
    assert item_state(deployment.data, 1) == "new"
    after = queued_run(execute(deployment.base, "trivial", tag="after-kill"))
    assert deployment.journal.wait_for(after).status == "succeeded"


def test_a_worker_paused_past_its_heartbeat_gives_up_its_run(deployment: Deployment) -> None:
    """A worker frozen longer than its heartbeat allows (a paused machine) is presumed dead and
    its run goes to another worker. Once it wakes up, its own attempt stops at its next
    progress call and is rolled back: the run's writes land once, and its locks do not keep
    the new attempt waiting."""
    run_id = queued_run(execute(deployment.base, "long_retried", tag="p"))
    paused = signal_from(deployment.signals, "retried-p-1")
    os.kill(paused, signal.SIGSTOP)
    try:
        taken = deployment.journal.wait_for(run_id, ("running", *FINISHED_STATUSES),
                                            until=lambda entry: entry.attempts == 2)
        assert taken.attempts == 2
    finally:
        os.kill(paused, signal.SIGCONT)
    entry = deployment.journal.wait_for(run_id)
    assert (entry.status, entry.result, entry.attempts) == ("succeeded", "attempt 2", 2)
    assert signal_from(deployment.signals, "retried-p-2") != paused
    assert item_state(deployment.data, 2) == "long"
    assert [tag for tag, _ in calls(deployment.data, "retried-done")] == ["p"]


def _backend_writing_the_end_of(state: str, run_id: int) -> int:
    """The state database backend waiting to write how run ``run_id`` ended (a bound on the
    wait, not a check)."""
    engine = sync_engine(state)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                pid = conn.execute(sa.text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE 'UPDATE flexorm_action_runs%' "
                    "AND query LIKE '%finished_at%'")).scalar()
            if pid is not None:
                return int(pid)
            time.sleep(0.05)
        raise AssertionError(f"nothing wrote the end of run {run_id}")
    finally:
        engine.dispose()


def _cut_while_writing_the_end(deployment: Deployment, run_id: int, tag: str) -> None:
    """Let the ``gated`` run ``tag`` go on, and cut the state database connection that then
    writes how it ended (as a restart of that server would)."""
    holder = sync_engine(deployment.state)
    try:
        with holder.connect() as conn:
            # hold the run's row: its end waits for it, where the test can cut its connection
            conn.execute(sa.text("SELECT id FROM flexorm_action_runs WHERE id = :r FOR UPDATE"),
                         {"r": run_id})
            (deployment.signals / f"go-{tag}").touch()
            writer = _backend_writing_the_end_of(deployment.state, run_id)
            assert conn.execute(sa.text("SELECT pg_terminate_backend(:p)"),
                                {"p": writer}).scalar()
            conn.rollback()
    finally:
        holder.dispose()


def test_a_success_is_recorded_even_if_the_state_connection_drops_after_the_commit(
        deployment: Deployment) -> None:
    """The run's writes are committed in the data database; then the connection writing its
    success to the state database is cut (a restart of that server). The run is recorded
    ``succeeded``, not ``failed``: its effects are there."""
    run_id = queued_run(execute(deployment.base, "gated", tag="g"))
    signal_from(deployment.signals, "gated-g")
    _cut_while_writing_the_end(deployment, run_id, "g")
    entry = deployment.journal.wait_for(run_id)
    assert (entry.status, entry.result, entry.error) == ("succeeded", "g", None)
    assert [tag for tag, _ in calls(deployment.data, "gated")] == ["g"]


@contextlib.contextmanager
def _refusing(deployment: Deployment, check: str) -> Iterator[None]:
    """The state database refuses, for good, every run row that fails ``check`` (a check
    constraint on the journal, for rows written meanwhile)."""
    engine = sync_engine(deployment.state)
    alter = "ALTER TABLE flexorm_action_runs "
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"{alter}ADD CONSTRAINT refusing CHECK ({check}) NOT VALID")
        try:
            yield
        finally:
            with engine.begin() as conn:
                conn.exec_driver_sql(f"{alter}DROP CONSTRAINT refusing")
    finally:
        engine.dispose()


def test_a_success_whose_result_the_state_database_refuses_is_succeeded_without_it(
        deployment: Deployment) -> None:
    """The run's writes are committed in the data database; the state database then refuses
    its result for good (here a check constraint; elsewhere a result beyond MariaDB's
    ``max_allowed_packet``). The run is recorded ``succeeded``, without its result and saying
    why, not ``failed``: its effects are there."""
    tag = "x" * 50
    with _refusing(deployment, "length(result::text) < 20"):
        entry = deployment.journal.wait_for(
            queued_run(execute(deployment.base, "trivial", tag=tag)))
    assert (entry.status, entry.result) == ("succeeded", None)
    assert (entry.error or "").startswith(
        "the run succeeded, but the state database refused its result: CheckViolation: ")
    assert [t for t, _ in calls(deployment.data, "trivial")].count(tag) == 1


def test_a_chunk_whose_result_the_state_database_refuses_is_still_recorded_as_committed(
        deployment: Deployment) -> None:
    """``atomic=False``: a chunk's writes are committed in the data database; the state database
    then refuses its result for good. The checkpoint keeps the chunk's ids (a retry would resume
    after them) without its result, and the run ends ``succeeded`` saying so."""
    with _refusing(deployment, "checkpoint->'results'->>0 IS NULL"):
        run_id = queued_run(execute(deployment.base, "chunked_bulk", ids=[4, 6]))
        entry = deployment.journal.wait_for(run_id)
    assert (entry.status, entry.result, entry.error) == (
        "succeeded", [None],
        "the run succeeded, but the state database refused the result of 1 of its chunks: it "
        "is left out")
    assert deployment.journal.column(run_id, "checkpoint") == {"ids": [4, 6], "results": [None]}
    assert [item_state(deployment.data, i) for i in (4, 6)] == ["bulk", "bulk"]


def test_a_failure_is_recorded_even_if_the_state_connection_drops_while_writing_it(
        deployment: Deployment) -> None:
    """The body fails and its writes are rolled back; the connection writing the failure to the
    state database is cut (a restart of that server). The worker writes it again: the run ends
    ``failed`` rather than staying ``running`` while its worker lives on."""
    run_id = queued_run(execute(deployment.base, "gated", tag="gf", fail=True))
    signal_from(deployment.signals, "gated-gf")
    _cut_while_writing_the_end(deployment, run_id, "gf")
    entry = deployment.journal.wait_for(run_id)
    assert entry.status == "failed"
    assert "gf was told to fail" in (entry.error or "")
    assert "gf" not in [tag for tag, _ in calls(deployment.data, "gated")]
