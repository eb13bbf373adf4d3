"""What the database refuses, through the real server: a value that does not fit its column is
a 400 naming no table internals, a lock held too long a 409, an unreachable database a 503 (and
``/health`` says so), and the first request after it comes back succeeds. Each refused run leaves
the database as it was and one journal row."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests._proxy import proxied
from tests._serving import WAIT, serving
from tests.conftest import sync_engine
from tests.integration._journal_shop import runs

TOKEN = "database-errors-key"

SERVER = """
import sys
from typing import Any

import uvicorn

from flexorm import Flex, Settings

url, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
flex = Flex(url, settings=Settings(tokens=(token,), journal=True, auto_upgrade=True,
                                   lock_timeout=0.5))


@flex.action(model="notes", for_instance=True)
def rewrite(note: Any, text: str, visits: int = 0) -> str:
    note.text = text
    note.visits = visits
    return note.text


uvicorn.run(flex.app, host="127.0.0.1", port=port, log_level="warning")
"""

NOTES = sa.Table("notes", sa.MetaData(),
                 sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                 sa.Column("text", sa.String(5), nullable=False),
                 sa.Column("visits", sa.Integer, nullable=False))


def _create(url: str) -> None:
    engine = sync_engine(url)
    NOTES.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(NOTES.insert(), [{"id": 1, "text": "first", "visits": 0}])
    engine.dispose()


def _start(url: str, log: Path) -> Any:
    return serving(lambda port: [sys.executable, "-c", SERVER, url, str(port), TOKEN], log)


@pytest.fixture
def server(any_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    _create(any_url)
    with _start(any_url, tmp_path / "server.log") as base:
        yield base, any_url


def _rewrite(base: str, **params: Any) -> tuple[int, Any]:
    response = httpx.post(f"{base}/api/messages/", timeout=WAIT,
                          headers={"Authorization": f"Bearer {TOKEN}"},
                          json={"name": "execute_action", "params": {
                              "model": "notes", "name": "rewrite", "id": 1, "params": params}})
    return response.status_code, response.json()


def _note(url: str) -> tuple[str, int]:
    engine = sync_engine(url)
    with engine.connect() as conn:
        row = conn.execute(sa.select(NOTES.c.text, NOTES.c.visits)).one()
    engine.dispose()
    return row.text, row.visits


def test_a_number_out_of_range_for_its_column_is_a_400(server: tuple[str, str]) -> None:
    base, url = server
    if url.startswith("sqlite"):
        pytest.skip("SQLite's INTEGER holds 64 bits, as much as an int parameter accepts")
    status, body = _rewrite(base, text="new", visits=2**40)  # INTEGER holds 32 bits
    assert status == 400
    assert body == {"non_field_errors": [
        "The database refused a value: a number is out of range for its column"]}
    assert _note(url) == ("first", 0)
    assert [(run.status, run.error) for run in runs(url)] == [
        ("rejected", body["non_field_errors"][0])]


def test_a_text_too_long_for_its_column_is_a_400(server: tuple[str, str]) -> None:
    base, url = server
    if url.startswith("sqlite"):
        pytest.skip("SQLite keeps text of any length in a VARCHAR(5) column")
    status, body = _rewrite(base, text="much too long")
    assert status == 400
    assert body == {"non_field_errors": [
        "The database refused a value: it is too long for its column"]}
    assert _note(url) == ("first", 0)
    assert [run.status for run in runs(url)] == ["rejected"]


def test_a_lock_held_too_long_is_a_409(server: tuple[str, str]) -> None:
    base, url = server
    engine = sync_engine(url)
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # the whole database, as SQLite locks
        else:
            conn.execute(sa.select(NOTES).where(NOTES.c.id == 1).with_for_update())
        status, body = _rewrite(base, text="new")
        conn.rollback()
    engine.dispose()
    assert status == 409
    assert body["error_code"] == "concurrency_conflict"
    assert body["reason"] == "lock_timeout"
    assert _note(url) == ("first", 0)
    # on SQLite the journal row cannot be written either while the database is held: it is
    # written once the lock is let go, without holding the answer back a second lock wait
    deadline = time.monotonic() + 30  # a bound on the wait, not a measure
    while not runs(url) and time.monotonic() < deadline:
        time.sleep(0.05)
    [failed] = runs(url)
    assert (failed.action, failed.status, failed.error) == (
        "rewrite", "failed", body["error"])
    assert _rewrite(base, text="new") == (200, {"result": "new"})


@pytest.mark.parametrize("dialect", [pytest.param("postgresql", marks=pytest.mark.postgres),
                                     pytest.param("mariadb", marks=pytest.mark.mariadb)])
def test_an_unreachable_database_is_a_503_until_it_comes_back(
        dialect: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url = sa.make_url(str(request.getfixturevalue(
        "pg_url" if dialect == "postgresql" else "mariadb_url")))
    _create(url.render_as_string(hide_password=False))
    assert url.host is not None
    assert url.port is not None
    with proxied(url.host, url.port) as proxy:
        through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(
            hide_password=False)
        with _start(through, tmp_path / "server.log") as base:
            assert _rewrite(base, text="one") == (200, {"result": "one"})
            proxy.down()
            status, body = _rewrite(base, text="two")
            health = httpx.get(f"{base}/health", timeout=WAIT)
            proxy.up()
            assert (status, body["error_code"]) == (503, "database_unavailable")
            assert (health.status_code, health.json()) == (
                503, {"status": "down", "error_code": "database_unavailable"})
            assert _rewrite(base, text="three") == (200, {"result": "three"})
            assert httpx.get(f"{base}/health", timeout=WAIT).json() == {"status": "ok"}
    assert _note(url.render_as_string(hide_password=False)) == ("three", 0)
    # an outage is expected: logged in a line or two, not with tracebacks of hundreds
    log = (tmp_path / "server.log").read_text()
    assert "the database cannot be reached right now" in log
    assert "Traceback" not in log, log


@pytest.mark.parametrize("dialect", [pytest.param("postgresql", marks=pytest.mark.postgres),
                                     pytest.param("mariadb", marks=pytest.mark.mariadb)])
def test_health_of_a_frozen_database_is_down_without_piling_up_connections(
        dialect: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """The database stops answering on open connections (its process stopped, a network that
    drops every packet): ``/health`` says it is down, and the monitors asking it at the same
    time share one query rather than each sending its own to a database that answers none;
    once the database answers again, so does ``/health``, and actions run."""
    url = sa.make_url(str(request.getfixturevalue(
        "pg_url" if dialect == "postgresql" else "mariadb_url")))
    _create(url.render_as_string(hide_password=False))
    assert url.host is not None
    assert url.port is not None
    down = {"status": "down", "error_code": "database_unavailable"}

    def health(base: str) -> tuple[int, Any]:
        response = httpx.get(f"{base}/health", timeout=WAIT)
        return response.status_code, response.json()

    with proxied(url.host, url.port) as proxy:
        through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(
            hide_password=False)
        with _start(through, tmp_path / "server.log") as base:
            assert [_rewrite(base, text=str(n)) for n in range(3)] == [
                (200, {"result": str(n)}) for n in range(3)]
            assert health(base) == (200, {"status": "ok"})
            proxy.freeze()
            try:
                with ThreadPoolExecutor(5) as pool:
                    answers = list(pool.map(health, [base] * 5))
                used = proxy.used_while_frozen
                later = health(base)
            finally:
                proxy.thaw()
            assert answers == [(503, down)] * 5
            # the one query, and on PostgreSQL the request cancelling it (a connection of its
            # own)
            assert used == (2 if dialect == "postgresql" else 1)
            assert later == (503, down)
            deadline = time.monotonic() + WAIT  # a bound on the wait, not a measure
            while health(base)[0] != 200:
                assert time.monotonic() < deadline, "/health stayed down"
                time.sleep(0.1)
            assert _rewrite(base, text="then") == (200, {"result": "then"})
    assert _note(url.render_as_string(hide_password=False)) == ("then", 0)


def _drop_connections(url: str) -> int:
    """Close every other connection to ``url``'s database from the server's side, as a restart
    does; how many were closed."""
    engine = sync_engine(url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                return len(conn.execute(sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")).all())
            ids = conn.execute(sa.text(
                "SELECT id FROM information_schema.processlist "
                "WHERE db = DATABASE() AND id <> CONNECTION_ID()")).scalars().all()
            for connection_id in ids:
                conn.execute(sa.text(f"KILL {int(connection_id)}"))
            return len(ids)
    finally:
        engine.dispose()


@pytest.mark.parametrize("dialect", [pytest.param("postgresql", marks=pytest.mark.postgres),
                                     pytest.param("mariadb", marks=pytest.mark.mariadb)])
def test_connections_the_database_closed_are_replaced_before_the_next_request(
        dialect: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """The server's pooled connections are all closed by the database (a restart, an idle
    timeout, an administrator): the next requests get fresh ones, and none of them fails."""
    url = str(request.getfixturevalue("pg_url" if dialect == "postgresql" else "mariadb_url"))
    _create(url)
    with _start(url, tmp_path / "server.log") as base:
        assert _rewrite(base, text="one") == (200, {"result": "one"})
        assert _rewrite(base, text="two") == (200, {"result": "two"})
        assert _drop_connections(url) >= 1
        assert [_rewrite(base, text=f"then{n}") for n in range(3)] == [
            (200, {"result": f"then{n}"}) for n in range(3)]
    assert _note(url) == ("then2", 0)


def test_a_sqlite_file_replaced_or_deleted_under_the_server_is_followed(
        sqlite_url: str, tmp_path: Path) -> None:
    """Restoring a backup over the file, or deleting it, while the server runs: the server's
    connections held the old file, and every write answered 500 for good. Now a request meets
    a 503 at most while the file is away, a deleted file is never re-created empty, and the
    server serves the file as it is once it is back."""
    _create(sqlite_url)
    path = Path(sa.make_url(sqlite_url).database or "")
    with _start(sqlite_url, tmp_path / "server.log") as base:
        assert _rewrite(base, text="one") == (200, {"result": "one"})
        backup = tmp_path / "backup.db"
        backup.write_bytes(path.read_bytes())
        assert _rewrite(base, text="two") == (200, {"result": "two"})

        restored = tmp_path / "restored.db"
        restored.write_bytes(backup.read_bytes())
        restored.replace(path)  # the backup is restored over the file the server holds
        first = _rewrite(base, text="three")
        assert first in ((200, {"result": "three"}), (503, first[1]))
        assert _rewrite(base, text="four") == (200, {"result": "four"})
        assert _note(sqlite_url) == ("four", 0)

        kept = tmp_path / "kept.db"
        path.replace(kept)  # the file is moved away
        status, body = _rewrite(base, text="five")
        assert (status, body["error_code"]) == (503, "database_unavailable")
        assert _rewrite(base, text="five")[0] == 503
        assert httpx.get(f"{base}/health", timeout=WAIT).status_code == 503
        assert not path.exists()  # not re-created empty
        kept.replace(path)
        assert _rewrite(base, text="six") == (200, {"result": "six"})
    assert _note(sqlite_url) == ("six", 0)


@pytest.mark.mariadb
def test_mariadb_refusing_the_login_is_a_503_until_it_accepts_it_again(
        mariadb_url: str, tmp_path: Path) -> None:
    """The server's account is locked (or its password rotated) and its connections closed:
    each request is a 503, and the first after the account is unlocked succeeds."""
    _create(mariadb_url)
    admin = sa.make_url(mariadb_url)
    user = f"locked_{tmp_path.name[-8:]}".replace("-", "_")
    account = f"'{user}'@'127.0.0.1'"
    engine = sync_engine(mariadb_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE USER {account} IDENTIFIED BY 'pw-of-{user}'")
            conn.exec_driver_sql(f"GRANT ALL ON `{admin.database}`.* TO {account}")
    except sa.exc.OperationalError:  # a server of the user's own, whose user may not grant
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP USER IF EXISTS {account}")
        engine.dispose()
        pytest.skip("the test server's user may not create and grant accounts")
    served = admin.set(username=user, password=f"pw-of-{user}", host="127.0.0.1")
    try:
        with _start(served.render_as_string(hide_password=False),
                    tmp_path / "server.log") as base:
            assert _rewrite(base, text="one") == (200, {"result": "one"})
            with engine.begin() as conn:
                conn.exec_driver_sql(f"ALTER USER {account} ACCOUNT LOCK")
            assert _drop_connections(mariadb_url) >= 1
            engine.dispose()  # its connection was closed too
            status, body = _rewrite(base, text="two")
            assert (status, body["error_code"]) == (503, "database_unavailable")
            with engine.begin() as conn:
                conn.exec_driver_sql(f"ALTER USER {account} ACCOUNT UNLOCK")
            assert _rewrite(base, text="three") == (200, {"result": "three"})
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP USER IF EXISTS {account}")
        engine.dispose()
    assert _note(mariadb_url) == ("three", 0)
