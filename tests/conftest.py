"""Fixtures shared by every test: real SQLite files and a real PostgreSQL server.

- ``sqlite_url``: a URL to an empty SQLite file of the test's own.
- ``pg_url``: a URL to an empty PostgreSQL database of the test's own (the server is started once
  per session, see ``devservers/postgres.py``).
- ``db_url``: both, as a parametrized fixture: a test that takes it runs on SQLite and PostgreSQL.

Without PostgreSQL binaries the PostgreSQL tests are skipped locally, and fail under CI.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
import sqlalchemy as sa

from devservers import mariadb as _mariadb
from devservers.postgres import PostgresUnavailable, running_server

NO_DATA_SOURCE = dict.fromkeys(("data_source_field", "data_source_name", "data_source_params",
                                "data_source_order_after", "data_source_hidden"))
"""The ``data_source_*`` keys of a field whose column has no Jet Admin JSON comment."""

_counter = itertools.count()


@pytest.fixture(autouse=True, scope="session")
def _reflection_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Reflection caches go to the session's temporary folder, never the user's cache."""
    patch = pytest.MonkeyPatch()
    patch.setenv("FLEXORM_CACHE_DIR", str(tmp_path_factory.mktemp("flexorm-cache")))
    yield
    patch.undo()


@pytest.fixture(autouse=True, scope="session")
def _no_journal_by_default() -> Iterator[None]:
    """``FLEXORM_JOURNAL=0``: settings read from the environment run without flexorm's own
    tables, so that a test's fresh database holds only the tables it created (exact
    collection lists, statement counts). Tests of the journal ask for it in their settings."""
    patch = pytest.MonkeyPatch()
    patch.setenv("FLEXORM_JOURNAL", "0")
    yield
    patch.undo()


def _started(server: Callable[[], AbstractContextManager[str]],
             unavailable: type[Exception]) -> Iterator[str]:
    """A test server's URL; without its binaries a skip, or a failure under CI."""
    try:
        with server() as url:
            yield url
    except unavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    yield from _started(running_server, PostgresUnavailable)


@contextlib.contextmanager
def pg_database(server: str) -> Iterator[str]:
    """A fresh database on the PostgreSQL server ``server``, dropped afterwards."""
    name = f"flexorm_test_{os.getpid()}_{next(_counter)}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_url(postgres_server: str) -> Iterator[str]:
    with pg_database(postgres_server) as url:
        yield url


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[str]:
    yield from _started(_mariadb.running_server, _mariadb.MariaDBUnavailable)


@contextlib.contextmanager
def mariadb_database(server: str) -> Iterator[str]:
    """A fresh database on the MariaDB server ``server``, dropped afterwards."""
    name = f"flexorm_test_{os.getpid()}_{next(_counter)}"
    admin = sync_engine(server)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE `{name}`")
    try:
        yield sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()


@pytest.fixture
def mariadb_url(mariadb_server: str) -> Iterator[str]:
    """A fresh database on the MariaDB server, as a plain ``mysql://`` URL."""
    with mariadb_database(mariadb_server) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres),
                        pytest.param("mariadb", marks=pytest.mark.mariadb)])
def any_url(request: pytest.FixtureRequest) -> str:
    """``db_url``, and MariaDB too: for tests that hold on every SQLAlchemy database."""
    name = {"sqlite": "sqlite_url", "postgresql": "pg_url", "mariadb": "mariadb_url"}
    return str(request.getfixturevalue(name[request.param]))


@pytest.fixture(scope="module", params=[
    "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb)])
def module_any_url(request: pytest.FixtureRequest,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``any_url``, one database shared by a module's tests (for a server they all use)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    elif request.param == "postgresql":
        with pg_database(request.getfixturevalue("postgres_server")) as url:
            yield url
    else:
        with mariadb_database(request.getfixturevalue("mariadb_server")) as url:
            yield url


def sync_engine(url: str) -> sa.Engine:
    """A plain blocking engine for setting up test schemas (psycopg 3 for PostgreSQL, PyMySQL
    for MariaDB)."""
    parsed = sa.make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername == "mysql":
        parsed = parsed.set(drivername="mysql+pymysql")
    return sa.create_engine(parsed)


def run_statements(url: str, statements: Iterable[str]) -> None:
    """Run SQL statements in one transaction (a test's schema and rows)."""
    engine = sync_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    engine.dispose()
