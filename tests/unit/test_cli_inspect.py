"""``flexorm inspect`` through click's CliRunner, on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from flexorm.cli.inspect import inspect_command
from tests.conftest import run_statements

SCHEMA = [
    "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL)",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, account_id INTEGER REFERENCES accounts (id))",
    "CREATE TABLE audit (message TEXT)",
]


@pytest.fixture
def filled_url(db_url: str) -> str:
    run_statements(db_url, SCHEMA)
    return db_url


def invoke(*args: str, env: dict[str, str] | None = None):
    clean: dict[str, str | None] = {f"FLEXORM_{name}": None
                                    for name in ("DATABASE_URL", "SCHEMAS", "INCLUDE", "EXCLUDE")}
    clean.update(env or {})
    return CliRunner().invoke(inspect_command, list(args), env=clean)


def test_json_is_exactly_the_model_descriptions(filled_url: str) -> None:
    result = invoke(filled_url, "--json")

    assert result.exit_code == 0, result.output
    descriptions = json.loads(result.stdout)
    assert [d["model"] for d in descriptions] == ["accounts", "audit", "orders"]
    orders = descriptions[2]
    account_id = next(f for f in orders["fields"] if f["name"] == "account_id")
    assert account_id["field"] == "ForeignKey"
    assert account_id["params"]["related_model"] == {"model": "accounts"}
    assert orders["relations"][0]["name"] == "account_id__to__accounts__id"


def test_table_lists_collections_fields_and_keys(filled_url: str) -> None:
    result = invoke(filled_url)

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "orders (table)" in out
    assert "→ accounts.id" in out
    assert "PK (first column)" in out  # audit has no primary key
    assert "3 collections" in out


def test_table_prints_names_that_look_like_markup_as_they_are(sqlite_url: str) -> None:
    run_statements(sqlite_url, ['CREATE TABLE "a[/b]" (id INTEGER PRIMARY KEY, "[bold]x" TEXT)',
                                'CREATE TABLE "[red]t" ("c[/]" INTEGER)'])
    result = invoke(sqlite_url)

    assert result.exit_code == 0, result.output
    for name in ("a[/b] (table)", "[bold]x", "[red]t (table)", "c[/]"):
        assert name in result.stdout


def test_filters_and_url_from_the_environment(filled_url: str) -> None:
    result = invoke("--include", "a*", "--exclude", "audit", "--json",
                    env={"FLEXORM_DATABASE_URL": filled_url})

    assert result.exit_code == 0, result.output
    assert [d["model"] for d in json.loads(result.stdout)] == ["accounts"]


def test_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    result = invoke(f"sqlite:///{path}")

    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: no SQLite database at {path}"
    assert result.stdout == ""
    assert not path.exists()


@pytest.mark.parametrize("url", ["not a url", "nosuchdialect://x/y"])
def test_bad_url_is_one_line_and_exit_code_2(url: str) -> None:
    result = invoke(url)

    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("not-a-url", "'not-a-url'"),
        ("postgresql://me:s3cret@db:notaport/shop", "'postgresql://me:***@db:notaport/shop'"),
    ],
)
def test_a_url_that_does_not_parse_is_repeated_without_its_password(url: str,
                                                                     shown: str) -> None:
    result = invoke(url)

    assert result.exit_code == 2
    assert result.stderr == f"Error: not a database URL: {shown}\n"
    assert "s3cret" not in result.output


@pytest.mark.parametrize(("credentials", "query", "shown"), [
    ("me:s3cret", "", "postgresql+psycopg://me:***@"),
    ("me", "&password=s3cret", "postgresql+psycopg://me@"),
    ("me", "&sslpassword=s3cret", "postgresql+psycopg://me@"),
])
def test_unreachable_server_hides_the_password(credentials: str, query: str, shown: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    result = invoke(f"postgresql://{credentials}@127.0.0.1:{port}/db?connect_timeout=2{query}")

    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: cannot reflect {shown}")
    assert result.stderr.count("\n") == 1
    assert "s3cret" not in result.output


def test_no_url_at_all() -> None:
    result = invoke()

    assert result.exit_code == 2
    assert "FLEXORM_DATABASE_URL" in result.stderr
