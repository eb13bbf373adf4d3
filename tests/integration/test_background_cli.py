"""Background actions from the command line, on SQLite and PostgreSQL with the server running
the runs: ``flexorm call`` queues a run and runs nothing itself (nor touches the server's
runs), and ``flexorm runs show RUN [--wait]`` shows a run, or waits until it has ended."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from flexorm.cli import main
from tests._served import served
from tests.integration._background_deploy import StateJournal
from tests.integration._background_shop import create_tables, leave_running, make_flex

APP = """from tests.integration._background_shop import make_flex
flex = make_flex({url!r}, background_runner="embedded")
"""


def invoke(*args: str) -> Result:
    env = {"FLEXORM_DATABASE_URL": None, "FLEXORM_STATE_URL": None, "COLUMNS": "200"}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def run_row(url: str, run_id: int) -> dict[str, object]:
    journal = StateJournal(url)
    try:
        entry = journal.get(run_id)
        return {"status": entry.status, "worker": journal.column(run_id, "worker"),
                "attempts": entry.attempts}
    finally:
        journal.close()


@pytest.fixture
def app_path(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             request: pytest.FixtureRequest) -> Iterator[str]:
    create_tables(db_url)
    name = f"background_cli_{request.node.name.replace('[', '_').replace(']', '')}"
    (tmp_path / f"{name}.py").write_text(APP.format(url=db_url))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLEXORM_TEST_SIGNALS", str(tmp_path))
    yield f"{name}:flex"
    sys.modules.pop(name, None)


def test_call_queues_a_run_and_leaves_the_servers_runs_alone(app_path: str,
                                                              db_url: str) -> None:
    first = invoke("call", "trivial", "--app", app_path, "--param", "tag=first")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {"run": "1", "status": "queued"}
    assert first.stderr == ("run 1 is queued: the server or a worker runs it "
                            "(flexorm runs show 1 --wait follows it)\n")
    assert run_row(db_url, 1) == {"status": "queued", "worker": None, "attempts": 0}
    # a server that is alive runs run 1 now: another call must not take it for a dead one's
    leave_running(db_url, 1, "server:alive:1:a1b2c3d4")
    second = invoke("call", "trivial", "--app", app_path, "--param", "tag=second", "--json")
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout) == {"result": {"run": "2", "status": "queued"}}
    assert run_row(db_url, 1) == {"status": "running", "worker": "server:alive:1:a1b2c3d4",
                                  "attempts": 1}
    assert run_row(db_url, 2)["status"] == "queued"


def test_runs_show_waits_until_the_server_has_run_it(app_path: str, db_url: str) -> None:
    touched = invoke("call", "touch", "--app", app_path, "--ids", "1,2")
    exploded = invoke("call", "explode", "--app", app_path, "--id", "3")
    assert (touched.exit_code, exploded.exit_code) == (0, 0), touched.output + exploded.output
    shown = invoke("runs", "show", "1", db_url, "--json")
    assert shown.exit_code == 0, shown.output
    assert (json.loads(shown.stdout)["status"], json.loads(shown.stdout)["action"]) == (
        "queued", "touch")

    with served(make_flex(db_url, background_runner="embedded").app):
        done = invoke("runs", "show", "1", db_url, "--wait", "--json")
        failed = invoke("runs", "show", "2", "--app", app_path, "--wait")
    assert done.exit_code == 0, done.output
    run = json.loads(done.stdout)
    assert (run["id"], run["status"], run["result"], run["progress"]) == (
        1, "succeeded", 2, {"done": 2, "total": 2, "message": "item 2"})
    assert failed.exit_code == 1, failed.output  # waited for: it did not succeed
    assert "run 2" in failed.stdout
    assert ["status", "failed"] in [line.split() for line in failed.stdout.splitlines()]

    missing = invoke("runs", "show", "99", db_url)
    assert (missing.exit_code, missing.stderr) == (2, "Error: there is no run 99\n")


def test_a_worker_for_an_app_without_a_postgresql_state_database_says_what_to_set(
        app_path: str, db_url: str) -> None:
    if db_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL database is a state database a worker runs on")
    result = invoke("worker", "--app", app_path)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(
        "Error: flexorm worker runs the PostgreSQL queue, but this app's state database is "
        "sqlite:///")
    assert "set FLEXORM_STATE_URL to a PostgreSQL database" in result.stderr
