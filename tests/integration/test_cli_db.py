"""``flexorm db`` and ``flexorm runs`` through click's CliRunner, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.ext.asyncio import create_async_engine

from flexorm._url import async_url
from flexorm.cli import main
from flexorm.journal import JournalStore, RunEntry
from flexorm.migrations import current, head, upgrade

T0 = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    clean: dict[str, str | None] = {"FLEXORM_DATABASE_URL": None, "FLEXORM_STATE_URL": None}
    clean.update(env or {})
    return CliRunner().invoke(main, list(args), env=clean)


def record(url: str, *entries: RunEntry) -> None:
    async def go() -> None:
        engine = create_async_engine(async_url(url))
        async with engine.begin() as conn:
            for entry in entries:
                await JournalStore().record(conn, entry)
        await engine.dispose()

    asyncio.run(go())


def run(action: str, status: str, second: int, **fields: object) -> RunEntry:
    return RunEntry(action=action, status=status,  # type: ignore[arg-type]
                    started_at=T0 + dt.timedelta(seconds=second),
                    finished_at=T0 + dt.timedelta(seconds=second, milliseconds=40),
                    **fields)  # type: ignore[arg-type]


def test_upgrade_current_downgrade(db_url: str) -> None:
    upgraded = invoke("db", "upgrade", db_url)
    assert upgraded.exit_code == 0, upgraded.output
    assert upgraded.stdout.strip().endswith(f"upgraded from none to {head()}")
    assert current(db_url) == head()

    again = invoke("db", "upgrade", db_url)
    assert again.stdout.strip().endswith(f"already at {head()}")

    shown = invoke("db", "current", db_url, "--check")
    assert (shown.exit_code, shown.stdout) == (0, f"{head()} (head)\n")

    stepped = invoke("db", "downgrade", "-1", db_url)  # as --help shows it, no "--" needed
    assert stepped.exit_code == 0, stepped.output
    assert current(db_url) not in (None, head())
    assert invoke("db", "upgrade", db_url).exit_code == 0

    downgraded = invoke("db", "downgrade", "base", db_url)
    assert downgraded.exit_code == 0, downgraded.output
    assert downgraded.stdout.strip().endswith(f"downgraded from {head()} to none")
    assert current(db_url) is None


def test_current_check_fails_when_tables_are_missing(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    invoke("db", "downgrade", "base", sqlite_url)

    result = invoke("db", "current", "--check", env={"FLEXORM_DATABASE_URL": sqlite_url})

    assert result.exit_code == 1
    assert result.stdout.startswith("none: flexorm's tables are missing; run flexorm db upgrade")


def test_state_url_wins_over_database_url(tmp_path: Path) -> None:
    main_db, state_db = tmp_path / "main.db", tmp_path / "state.db"
    main_db.touch()

    result = invoke("db", "upgrade", env={"FLEXORM_DATABASE_URL": f"sqlite:///{main_db}",
                                          "FLEXORM_STATE_URL": f"sqlite:///{state_db}"})

    assert result.exit_code == 0, result.output
    assert current(f"sqlite:///{state_db}") == head()
    assert current(f"sqlite:///{main_db}") is None


@pytest.mark.parametrize("args", [
    ("db", "upgrade"),
    ("db", "current", "not a url"),
    ("db", "upgrade", "nosuchdialect://x/y"),
    ("db", "downgrade", "nosuchrev", "sqlite:///{tmp}/fresh.db"),
    ("db", "current", "sqlite:///{tmp}/missing.db"),
    ("runs", "sqlite:///{tmp}/fresh.db"),
])
def test_errors_are_one_line_and_exit_code_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    (tmp_path / "fresh.db").touch()
    result = invoke(*(arg.format(tmp=tmp_path) for arg in args))

    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output
    assert not (tmp_path / "missing.db").exists()


def test_runs_says_what_to_run_when_tables_are_missing(sqlite_url: str) -> None:
    Path(sqlite_url.removeprefix("sqlite:///")).touch()

    result = invoke("runs", sqlite_url)

    assert result.stderr == (f"Error: flexorm's tables are missing from {sqlite_url}: "
                             f"run `flexorm db upgrade {sqlite_url}`\n")


@pytest.fixture
def journal(db_url: str) -> str:
    upgrade(db_url)
    record(
        db_url,
        run("refund", "succeeded", 1, collection="orders", ids=(5, 6),
            caller_kind="jwt", caller_user_id="u-42", result={"refunded": 2}),
        run("refund", "failed", 2, collection="orders", ids=(7,), caller_kind="key",
            caller_key_name="key-1", error="payment provider down"),
        run("ship", "rejected", 3, collection="orders", ids=(8,), inverse=True,
            error="carrier: required"),
    )
    return db_url


def test_runs_table_shows_the_latest_first(journal: str) -> None:
    result = invoke("runs", journal, env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    ship, failed, refund = (next(i for i, line in enumerate(lines) if text in line)
                            for text in ("carrier: required", "payment provider down",
                                         "user u-42"))
    assert ship < failed < refund
    assert "all except 8" in lines[ship]
    assert "key key-1" in lines[failed]
    assert "5, 6" in lines[refund]
    assert "2026-03-01 09:30:01" in lines[refund]


def test_runs_json_filters_and_limits(journal: str) -> None:
    refunds = json.loads(invoke("runs", journal, "--action", "refund", "--json").stdout)
    failed = json.loads(invoke("runs", journal, "--status", "failed", "--json").stdout)
    latest = json.loads(invoke("runs", journal, "--limit", "1", "--json").stdout)

    assert [(r["status"], r["ids"]) for r in refunds] == [("failed", [7]), ("succeeded", [5, 6])]
    assert refunds[1]["result"] == {"refunded": 2}
    assert refunds[1]["started_at"] == "2026-03-01T09:30:01+00:00"
    assert refunds[1]["duration_ms"] == 40
    assert [r["error"] for r in failed] == ["payment provider down"]
    assert [r["action"] for r in latest] == ["ship"]


def test_runs_with_no_runs(sqlite_url: str) -> None:
    upgrade(sqlite_url)

    assert invoke("runs", sqlite_url).stdout == "No runs recorded.\n"
    assert invoke("runs", sqlite_url, "--json").stdout == "[]\n"
