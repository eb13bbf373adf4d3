"""A result larger than ``journal_result_limit`` is answered whole, and its run's row keeps a
note instead of it: on every database, in every transaction a row is written in, and on MariaDB
beyond its ``max_allowed_packet``, where keeping it failed the action's own transaction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from flexorm.cli import main
from tests.conftest import sync_engine
from tests.integration._journal_shop import (
    client,
    create_tables,
    execute,
    hits,
    logged,
    make_flex,
    runs,
)

LIMIT = 1000


def note(size: int, limit: int = LIMIT) -> str:
    return f"result of {size:,} bytes not kept: larger than journal_result_limit ({limit:,})"


def test_a_result_over_the_limit_is_answered_whole_and_its_row_keeps_a_note(
        any_url: str) -> None:
    create_tables(any_url)
    with client(make_flex(any_url, journal_result_limit=LIMIT)) as http:
        over = execute(http, "export", params={"size": 5000})
        at_limit = execute(http, "export", params={"size": LIMIT - 2})  # its JSON: the limit
        listed = execute(http, "export_async", params={"size": 2000})
    assert over == (200, {"result": "x" * 5000})
    assert at_limit == (200, {"result": "x" * (LIMIT - 2)})
    assert listed == (200, {"result": ["x"] * 2000})
    assert hits(any_url) == 3  # each body ran, and committed
    assert [(run.action, run.status, run.result, run.error) for run in runs(any_url)] == [
        ("export", "succeeded", None, note(5002)),
        ("export", "succeeded", "x" * (LIMIT - 2), None),
        ("export_async", "succeeded", None, note(8001)),
    ]


def test_a_limit_of_0_keeps_no_result(sqlite_url: str) -> None:
    create_tables(sqlite_url)
    with client(make_flex(sqlite_url, journal_result_limit=0)) as http:
        assert execute(http, "cancel", id=1) == (200, {"result": "cancelled"})
    [run] = runs(sqlite_url)
    assert (run.status, run.result, run.error) == ("succeeded", None, note(11, 0))


@pytest.mark.parametrize("where", ["read-only run on SQLite", "separate state database"])
def test_a_row_written_after_the_commit_keeps_no_result_over_the_limit_either(
        sqlite_url: str, tmp_path: Path, where: str) -> None:
    """A row not written in the action's transaction: an action that only reads, on SQLite,
    and every run with a separate state database."""
    create_tables(sqlite_url)
    state = f"sqlite:///{tmp_path / 'state.db'}" if where != "read-only run on SQLite" else None
    with client(make_flex(sqlite_url, journal_result_limit=LIMIT, state_url=state)) as http:
        assert execute(http, "look", params={"size": 3000}) == (200, {"result": "x" * 3000})
    [run] = runs(state or sqlite_url)
    assert (run.action, run.status, run.result, run.error) == (
        "look", "succeeded", None, note(3002))


def test_a_dry_runs_row_keeps_no_result_over_the_limit(db_url: str) -> None:
    create_tables(db_url)
    with client(make_flex(db_url, journal_result_limit=LIMIT)) as http:
        status, answer = execute(http, "export", params={"size": 3000}, dry_run=True)
    assert (status, answer["result"], answer["dry_run"]) == (200, "x" * 3000, True)
    assert hits(db_url) == 0  # rolled back
    [run] = runs(db_url)
    assert (run.status, run.dry_run, run.result, run.error) == (
        "succeeded", True, None, note(3002))


def test_flexorm_runs_shows_the_note(sqlite_url: str) -> None:
    create_tables(sqlite_url)
    with client(make_flex(sqlite_url, journal_result_limit=LIMIT)) as http:
        execute(http, "export", params={"size": 5000})
    env = {"FLEXORM_DATABASE_URL": None, "FLEXORM_STATE_URL": None, "COLUMNS": "200"}
    listed = CliRunner().invoke(main, ["runs", sqlite_url, "--json"], env=env,
                                catch_exceptions=False)
    [run] = json.loads(listed.stdout)
    assert (run["status"], run["result"], run["error"]) == ("succeeded", None, note(5002))
    table = CliRunner().invoke(main, ["runs", sqlite_url], env=env, catch_exceptions=False)
    assert "result of 5,002 bytes not kept" in table.stdout


@pytest.mark.mariadb
def test_a_result_beyond_mariadbs_packet_succeeds(mariadb_url: str) -> None:
    """The default limit: a result larger than the one packet MariaDB takes was kept in the
    action's transaction (its row, its key's answer), MariaDB dropped the connection, and the
    action answered 503 every time."""
    create_tables(mariadb_url)
    engine = sync_engine(mariadb_url)
    with engine.connect() as conn:
        packet = int(conn.execute(sa.text("SELECT @@max_allowed_packet")).scalar_one())
    engine.dispose()
    size = packet + 4 * 1024 * 1024
    key = {"Idempotency-Key": "big-export"}
    with client(make_flex(mariadb_url)) as http:
        status, answer = execute(http, "export", params={"size": size})
        assert status == 200, answer
        assert answer == {"result": "x" * size}
        status, answer = execute(http, "export", params={"size": size}, headers=key)
        assert status == 200, answer
        retry = execute(http, "export", params={"size": size}, headers=key)
    assert retry[0] == 409, retry
    assert retry[1]["error_code"] == "idempotency_answer_not_kept"
    assert hits(mariadb_url) == 2  # the retry ran nothing
    plain, keyed, refused = runs(mariadb_url)
    assert [(run.status, run.result, run.error) for run in (plain, keyed)] == [
        ("succeeded", None, note(size + 2, 1_048_576))] * 2
    assert refused.status == "rejected"


@pytest.mark.mariadb
def test_a_limit_above_what_mariadb_takes_at_once_is_lowered_at_startup(
        mariadb_url: str) -> None:
    """A limit set above MariaDB's ``max_allowed_packet``: a result between the two made its
    row's statement too large, and the action failed every time. The limit is lowered to what
    a row's statement holds (its result escaped, up to twice its size), saying so once."""
    create_tables(mariadb_url)
    engine = sync_engine(mariadb_url)
    with engine.connect() as conn:
        packet = int(conn.execute(sa.text("SELECT @@max_allowed_packet")).scalar_one())
    engine.dispose()
    lowered = packet // 2 - 64 * 1024
    size = packet - 1024 * 1024  # under the packet, over what its row holds
    with logged("flexorm.journal") as records, \
            client(make_flex(mariadb_url, journal_result_limit=4 * packet)) as http:
        assert execute(http, "export", params={"size": size}) == (200, {"result": "x" * size})
    [run] = runs(mariadb_url)
    assert (run.status, run.result, run.error) == ("succeeded", None, note(size + 2, lowered))
    assert [record.getMessage() for record in records
            if "journal_result_limit" in record.getMessage()] == [
        f"journal_result_limit ({4 * packet:,} bytes) lowered to {lowered:,}: the state "
        f"database takes statements of up to {packet:,} bytes (max_allowed_packet), and a "
        "run's row holds its result escaped"]
