"""What the database refuses of a client's values, on each database: a constraint (unique, check,
foreign key, not null) refusing a change, and a value PostgreSQL reads as a name or a syntax of
its own (a tsquery, a regclass...), are a 400 that names the constraint or the fault and never
the row's values, whichever driver ran the body (a sync body on PyMySQL, an async one on
aiomysql); nothing is written, and the journal keeps the same message. A mistake in an action's
own SQL, with the same SQLSTATEs, stays a server error.

Also what the database says of a request that is not a mistake in its code: a value past one
of its size limits (PostgreSQL's index entries, MariaDB's ``max_allowed_packet``) and a
trigger's refusal are a 400; a statement past its time limit and a database taking no writes
are a 503. None of them is a 500."""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from flexorm import ActionContext, Flex, Settings
from tests.conftest import run_statements, sync_engine
from tests.integration._journal_shop import runs

TOKEN = "database-refusals-key"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

SCHEMA = [
    "CREATE TABLE teams (id INTEGER PRIMARY KEY)",
    "CREATE TABLE accounts (id INTEGER PRIMARY KEY, "
    "status VARCHAR(10) CHECK (status IN ('on', 'off')), n INTEGER CHECK (n > 0), "
    "email VARCHAR(50) UNIQUE, team_id INTEGER REFERENCES teams (id), "
    "score INTEGER NOT NULL DEFAULT 0)",
    "INSERT INTO teams VALUES (1)",
    "INSERT INTO accounts VALUES (1, 'on', 1, 'a@x', 1, 0), (2, 'off', 2, 'b@x', 1, 0)",
]
ROWS = sa.text("SELECT id, status, n, email, team_id, score FROM accounts ORDER BY id")


def _edit(account: Any, **values: Any) -> int:
    for name, value in values.items():
        if value is not None:
            setattr(account, name, value)
    return int(account.id)


def build_flex(url: str) -> Flex:
    """Plain parameters: what they hold reaches the database as sent (a ``fields`` parameter
    of ``status`` would offer its options, and refuse another value before the body)."""
    flex = Flex(url, settings=Settings(tokens=(TOKEN,), journal=True, auto_upgrade=True))

    @flex.action(model="accounts", for_instance=True)
    def edit(account: Any, status: str | None = None, n: int | None = None,
             email: str | None = None, team_id: int | None = None) -> int:
        return _edit(account, status=status, n=n, email=email, team_id=team_id)

    @flex.action(model="accounts", for_instance=True)
    async def edit_async(account: Any, status: str | None = None, n: int | None = None,
                         email: str | None = None, team_id: int | None = None) -> int:
        return _edit(account, status=status, n=n, email=email, team_id=team_id)

    @flex.action(model="accounts", for_instance=True)
    def unscore(account: Any) -> int:
        account.score = None
        return int(account.id)

    @flex.action(model="teams", for_instance=True)
    def disband(team: Any, ctx: ActionContext) -> None:
        ctx.session.delete(team)

    return flex


@pytest.fixture
def client(any_url: str) -> Iterator[TestClient[Any]]:
    run_statements(any_url, SCHEMA)
    with TestClient(build_flex(any_url).app) as test_client:
        yield test_client


def _rows(url: str) -> list[tuple[Any, ...]]:
    engine = sync_engine(url)
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(ROWS)]
    engine.dispose()
    return rows


def _execute(client: TestClient[Any], name: str, *, model: str = "accounts",
             **params: Any) -> tuple[int, Any]:
    """Run action ``name`` on record 1 of ``model``: its status and answer."""
    response = client.post("/api/messages/", headers=AUTH, json={
        "name": "execute_action",
        "params": {"model": model, "name": name, "id": 1, "params": params}})
    return response.status_code, response.json()


def _database(url: str) -> str:
    return str(sa.make_url(url).database)


CHANGES = {"status": "maybe", "n": 0, "email": "b@x", "team_id": 7}
"""A value of each column that one of its constraints refuses."""


def _refusals(url: str) -> dict[str, str]:
    """What the database says of each change a constraint refuses (SQLite enforces no foreign
    key unless a connection asks it to)."""
    db = _database(url)
    return {
        "sqlite": {"status": "CHECK constraint failed: status IN ('on', 'off')",
                   "n": "CHECK constraint failed: n > 0",
                   "email": "UNIQUE constraint failed: accounts.email"},
        "postgresql": {"status": 'new row for relation "accounts" violates check constraint '
                                 '"accounts_status_check"',
                       "n": 'new row for relation "accounts" violates check constraint '
                            '"accounts_n_check"',
                       "email": 'duplicate key value violates unique constraint '
                                '"accounts_email_key"',
                       "team_id": 'insert or update on table "accounts" violates foreign key '
                                  'constraint "accounts_team_id_fkey"'},
        "mysql": {"status": f"CONSTRAINT `accounts.status` failed for `{db}`.`accounts`",
                  "n": f"CONSTRAINT `accounts.n` failed for `{db}`.`accounts`",
                  "email": "Duplicate entry for key 'email'",
                  "team_id": "Cannot add or update a child row: a foreign key constraint fails "
                             f"(`{db}`.`accounts`, CONSTRAINT `accounts_ibfk_1` FOREIGN KEY "
                             "(`team_id`) REFERENCES `teams` (`id`))"},
    }[sa.make_url(url).get_backend_name()]


@pytest.mark.parametrize("action", ["edit", "edit_async"])
def test_a_constraint_refusing_a_value_is_a_400_naming_the_constraint_not_the_row(
        client: TestClient[Any], any_url: str, action: str) -> None:
    before = _rows(any_url)
    expected = []
    for field, message in _refusals(any_url).items():
        answer = _execute(client, action, **{field: CHANGES[field]})
        shown = f"The database refused the change: {message}"
        assert answer == (400, {"non_field_errors": [shown]}), field
        assert "b@x" not in shown
        expected.append(("rejected", shown))
    assert _rows(any_url) == before
    assert [(run.status, run.error) for run in runs(any_url)] == expected


def test_a_not_null_column_refusing_a_null_is_a_400(client: TestClient[Any],
                                                     any_url: str) -> None:
    said = {"sqlite": "NOT NULL constraint failed: accounts.score",
            "postgresql": 'null value in column "score" of relation "accounts" violates '
                          "not-null constraint",
            "mysql": "Column 'score' cannot be null"}[sa.make_url(any_url).get_backend_name()]
    before = _rows(any_url)
    assert _execute(client, "unscore") == (
        400, {"non_field_errors": [f"The database refused the change: {said}"]})
    assert _rows(any_url) == before


PG_SCHEMA = [
    "CREATE TABLE docs (id integer PRIMARY KEY, tsv tsvector, tq tsquery, jp jsonpath, "
    "rc regclass, rt regtype, rn regnamespace, title text)",
    "CREATE INDEX docs_title ON docs (title)",
    "INSERT INTO docs (id) VALUES (1)",
]
NOT_VALID = "The database refused a value: it is not valid for its column's type"
UNKNOWN = ("The database refused a value: it names a table, type or other object the database "
           "does not have")


def build_pg_flex(url: str) -> Flex:
    flex = Flex(url, settings=Settings(tokens=(TOKEN,), journal=True, auto_upgrade=True))

    @flex.action(model="docs", for_instance=True)
    def store(doc: Any, column: str, value: str) -> int:
        setattr(doc, column, value)
        return int(doc.id)

    @flex.action(model="docs", for_instance=True, writes=False)
    def search(doc: Any, ctx: ActionContext, query: str) -> bool:
        """The value reaches a function, not a column: its error has no bound parameter."""
        return bool(ctx.session.scalar(sa.text("SELECT to_tsquery(:q) IS NOT NULL"),
                                       {"q": query}))

    @flex.action(model="docs", for_instance=True, writes=False)
    def broken(doc: Any, ctx: ActionContext, sql: str) -> None:
        """The developer's own SQL (here, picked by the test)."""
        ctx.session.execute(sa.text(BROKEN[sql]))

    return flex


BROKEN = {"syntax": "SELEC 1", "table": "SELECT * FROM no_such_table",
          "literal": "SELECT 'no_such_table'::regclass",
          "dynamic": "DO $$ BEGIN EXECUTE 'SELEC 1'; END $$"}
"""Mistakes in an action's SQL that PostgreSQL reports with the SQLSTATEs of a value's."""


@pytest.fixture
def pg_client(pg_url: str) -> Iterator[TestClient[Any]]:
    run_statements(pg_url, PG_SCHEMA)
    with TestClient(build_pg_flex(pg_url).app) as test_client:
        yield test_client


@pytest.mark.postgres
def test_a_value_postgresql_parses_as_a_name_or_a_syntax_is_a_400(
        pg_client: TestClient[Any], pg_url: str) -> None:
    refused = [("tsv", "'", NOT_VALID), ("tq", "&&&", NOT_VALID), ("jp", "$$$", NOT_VALID),
               ("rc", "no_such_table", UNKNOWN), ("rc", '"unterminated', NOT_VALID),
               ("rc", "no_schema.t", UNKNOWN), ("rt", "no_such_type", UNKNOWN),
               # the type name's own parse gives a position, in the value
               ("rt", "int(", NOT_VALID), ("rn", "no_schema", UNKNOWN)]
    for column, value, message in refused:
        assert _execute(pg_client, "store", model="docs", column=column, value=value) == (
            400, {"non_field_errors": [message]}), (column, value)
    assert _execute(pg_client, "search", model="docs", query="&&&") == (
        400, {"non_field_errors": [NOT_VALID]})
    assert _execute(pg_client, "store", model="docs", column="rc", value="docs") == (
        200, {"result": 1})
    assert [run.status for run in runs(pg_url)] == ["rejected"] * (len(refused) + 1) + [
        "succeeded"]


@pytest.mark.postgres
def test_a_value_past_a_size_limit_of_postgresql_is_a_400_naming_the_limit(
        pg_client: TestClient[Any], pg_url: str) -> None:
    """A long text in a column with a b-tree index: PostgreSQL refuses an index entry past
    its size limit (SQLSTATE 54000), which answered 500 for a value the client chose."""
    text = "".join(random.Random(0).choices(string.ascii_letters, k=20_000))
    status, body = _execute(pg_client, "store", model="docs", column="title", value=text)
    assert status == 400
    [message] = body["non_field_errors"]
    assert message.startswith("The database refused a value: it is larger than the database "
                              "takes there (index row ")  # "requires 20016 bytes, maximum..."
    assert _execute(pg_client, "store", model="docs", column="title", value=text[:100]) == (
        200, {"result": 1})
    assert [run.status for run in runs(pg_url)] == ["rejected", "succeeded"]


@pytest.mark.postgres
@pytest.mark.parametrize("mistake", list(BROKEN))
def test_a_mistake_in_an_actions_sql_stays_a_server_error(
        pg_client: TestClient[Any], pg_url: str, mistake: str,
        caplog: pytest.LogCaptureFixture) -> None:
    assert _execute(pg_client, "broken", model="docs", sql=mistake) == (
        500, {"error": "internal server error", "error_code": "internal_error"})
    assert [run.status for run in runs(pg_url)] == ["failed"]
    assert any(record.levelname == "ERROR" for record in caplog.records)


@pytest.mark.parametrize("any_url", [pytest.param("postgresql", marks=pytest.mark.postgres),
                                     pytest.param("mariadb", marks=pytest.mark.mariadb)],
                         indirect=True)
def test_deleting_a_row_others_refer_to_is_a_400(client: TestClient[Any], any_url: str) -> None:
    db = _database(any_url)
    said = {"postgresql": 'update or delete on table "teams" violates foreign key constraint '
                          '"accounts_team_id_fkey" on table "accounts"',
            "mysql": "Cannot delete or update a parent row: a foreign key constraint fails "
                     f"(`{db}`.`accounts`, CONSTRAINT `accounts_ibfk_1` FOREIGN KEY (`team_id`) "
                     "REFERENCES `teams` (`id`))"}[sa.make_url(any_url).get_backend_name()]
    response = client.post("/api/messages/", headers=AUTH, json={
        "name": "execute_action",
        "params": {"model": "teams", "name": "disband", "id": 1, "params": {}}})
    assert (response.status_code, response.json()) == (
        400, {"non_field_errors": [f"The database refused the change: {said}"]})
    assert len(_rows(any_url)) == 2


def build_notes_flex(url: str) -> Flex:
    flex = Flex(url, settings=Settings(tokens=(TOKEN,), journal=True, auto_upgrade=True))

    @flex.action(model="notes", for_instance=True)
    def pad(note: Any, size: int, fill: str = "x") -> int:
        note.body = fill * size
        return size

    @flex.action(model="notes", for_instance=True)
    async def pad_async(note: Any, size: int, fill: str = "x") -> int:
        note.body = fill * size
        return size

    return flex


@pytest.mark.mariadb
@pytest.mark.parametrize("action", ["pad", "pad_async"])
@pytest.mark.parametrize(("over", "fill"), [(1.0, "x"), (2.0, "x"), (0.6, "'")],
                         ids=["just-over", "twice-over", "over-once-escaped"])
def test_a_statement_over_max_allowed_packet_is_a_400_not_an_outage(
        mariadb_url: str, action: str, over: float, fill: str) -> None:
    """MariaDB drops the connection of a statement larger than ``max_allowed_packet``: just
    over, after its error, which the rollback then hid behind a lost connection; twice over,
    most often while the driver still sent it. Both were a 503 "cannot be reached", every
    time, for a value the client chose. It is a 400 saying why (quotes count twice: the driver
    escapes them); nothing is written, and the database serves the next request, even one
    just under the limit."""
    run_statements(mariadb_url, ["CREATE TABLE notes (id INTEGER PRIMARY KEY, body LONGTEXT)",
                                 "INSERT INTO notes VALUES (1, 'kept')"])
    engine = sync_engine(mariadb_url)
    with engine.connect() as conn:
        limit = int(conn.execute(sa.text("SELECT @@max_allowed_packet")).scalar_one())
    with TestClient(build_notes_flex(mariadb_url).app) as client:
        refused = ("The database refused a value: with it, the statement was larger than the "
                   "database takes at once (its max_allowed_packet)")
        assert _execute(client, action, model="notes", size=int(limit * over) + 1024,
                        fill=fill) == (400, {"non_field_errors": [refused]})
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT body FROM notes")).scalar_one() == "kept"
        under = limit - 64 * 1024
        assert _execute(client, action, model="notes", size=under) == (200, {"result": under})
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT LENGTH(body) FROM notes")).scalar_one() == under
    engine.dispose()
    assert [(run.status, run.error) for run in runs(mariadb_url)] == [
        ("rejected", refused), ("succeeded", None)]


NO_OVERDRAFT = {
    "sqlite": ["CREATE TRIGGER no_overdraft BEFORE UPDATE ON wallets FOR EACH ROW "
               "WHEN NEW.balance < 0 BEGIN "
               "SELECT RAISE(ABORT, 'balance cannot go below zero'); END"],
    "postgresql": ["CREATE FUNCTION no_overdraft() RETURNS trigger AS $$ BEGIN "
                   "IF NEW.balance < 0 THEN RAISE EXCEPTION 'balance cannot go below zero' "
                   "USING HINT = 'not for the client'; END IF; RETURN NEW; END $$ "
                   "LANGUAGE plpgsql",
                   "CREATE TRIGGER no_overdraft BEFORE UPDATE ON wallets FOR EACH ROW "
                   "EXECUTE FUNCTION no_overdraft()"],
    "mysql": ["CREATE TRIGGER no_overdraft BEFORE UPDATE ON wallets FOR EACH ROW BEGIN "
              "IF NEW.balance < 0 THEN SIGNAL SQLSTATE '45000' "
              "SET MESSAGE_TEXT = 'balance cannot go below zero'; END IF; END"],
}
"""A business rule kept by the database: each one's way of refusing a change."""

PAST_TIME_LIMIT = {
    "postgresql": ["SET LOCAL statement_timeout = 50", "SELECT pg_sleep(5)"],
    "mysql": ["SET STATEMENT max_statement_time = 0.05 FOR SELECT SLEEP(5)"],
}
"""A statement running past the time the database gives one (set by the action here; a
database's or a role's setting in the wild)."""


def build_wallets_flex(url: str) -> Flex:
    flex = Flex(url, settings=Settings(tokens=(TOKEN,), journal=True, auto_upgrade=True))
    backend = sa.make_url(url).get_backend_name()

    @flex.action(model="wallets", for_instance=True)
    def withdraw(wallet: Any, amount: int) -> int:
        wallet.balance -= amount
        return int(wallet.balance)

    @flex.action(model="wallets", for_instance=True)
    def slow(wallet: Any, ctx: ActionContext) -> None:
        wallet.balance = 0
        for statement in PAST_TIME_LIMIT[backend]:
            ctx.session.execute(sa.text(statement))

    return flex


@pytest.fixture
def wallets(any_url: str) -> Iterator[TestClient[Any]]:
    backend = sa.make_url(any_url).get_backend_name()
    run_statements(any_url, ["CREATE TABLE wallets (id INTEGER PRIMARY KEY, "
                             "balance INTEGER NOT NULL)", "INSERT INTO wallets VALUES (1, 100)",
                             *NO_OVERDRAFT[backend]])
    with TestClient(build_wallets_flex(any_url).app) as test_client:
        yield test_client


def _balance(url: str) -> int:
    engine = sync_engine(url)
    with engine.connect() as conn:
        balance = int(conn.execute(sa.text("SELECT balance FROM wallets")).scalar_one())
    engine.dispose()
    return balance


def test_a_refusal_a_trigger_raises_is_a_400_with_its_message(
        wallets: TestClient[Any], any_url: str) -> None:
    """A trigger's ``RAISE EXCEPTION`` (PostgreSQL) or ``SIGNAL`` (MariaDB) answered 500; it
    is the database refusing the change, with a message written for whoever meets it (its
    first line: not a hint or detail)."""
    refused = "The database refused the change: balance cannot go below zero"
    assert _execute(wallets, "withdraw", model="wallets", amount=500) == (
        400, {"non_field_errors": [refused]})
    assert _balance(any_url) == 100
    assert _execute(wallets, "withdraw", model="wallets", amount=30) == (200, {"result": 70})
    assert [(run.status, run.error) for run in runs(any_url)] == [
        ("rejected", refused), ("succeeded", None)]


@pytest.mark.parametrize("any_url", [pytest.param("postgresql", marks=pytest.mark.postgres),
                                     pytest.param("mariadb", marks=pytest.mark.mariadb)],
                         indirect=True)
def test_a_statement_past_the_databases_time_limit_is_a_503_database_timeout(
        wallets: TestClient[Any], any_url: str) -> None:
    """A statement the database stops at its time limit answered 500 with a traceback; the
    action is rolled back and answers 503 ``database_timeout``."""
    assert _execute(wallets, "slow", model="wallets") == (503, {
        "error": "the database stopped one of the action's statements before it finished "
                 "(past the time the database gives a statement, or cancelled there); "
                 "nothing was written",
        "error_code": "database_timeout"})
    assert _balance(any_url) == 100
    assert [run.status for run in runs(any_url)] == ["failed"]


@pytest.mark.postgres
def test_a_database_taking_no_writes_is_a_503_not_a_500(pg_url: str) -> None:
    """A primary turned read-only (a failover, a standby's URL): the write answered 500 with a
    traceback; it is a 503 saying why, nothing written."""
    database = sa.make_url(pg_url).database
    run_statements(pg_url, ["CREATE TABLE wallets (id INTEGER PRIMARY KEY, "
                            "balance INTEGER NOT NULL)", "INSERT INTO wallets VALUES (1, 100)",
                            f'ALTER DATABASE "{database}" SET default_transaction_read_only = on'])
    flex = Flex(pg_url, settings=Settings(tokens=(TOKEN,), journal=False))

    @flex.action(model="wallets", for_instance=True)
    def withdraw(wallet: Any, amount: int) -> int:
        wallet.balance -= amount
        return int(wallet.balance)

    try:
        with TestClient(flex.app) as client:
            assert _execute(client, "withdraw", model="wallets", amount=30) == (503, {
                "error": "the database takes no changes right now (it is read-only: a replica, "
                         "or a primary during a failover); nothing was written: try again "
                         "shortly",
                "error_code": "database_unavailable"})
    finally:
        run_statements(pg_url, ["SET TRANSACTION READ WRITE",
                                f'ALTER DATABASE "{database}" RESET '
                                "default_transaction_read_only"])
    assert _balance(pg_url) == 100
