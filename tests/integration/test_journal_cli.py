"""The journal from the terminal: ``flexorm runs --app``, ``flexorm call`` recording its runs,
``flexorm actions`` without flexorm's tables, and the demo creating its own."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from flexorm.cli import main
from tests.conftest import sync_engine
from tests.integration._journal_shop import create_tables

APP = """
from typing import Annotated, Any

from flexorm import Flex, Param

flex = Flex({url!r}, token="cli-key")


@flex.action(model="orders", for_instance=True)
def cancel(order: Any, pin: Annotated[str, Param(secret=True)] = "") -> str:
    order.status = "cancelled"
    return order.status
"""


def invoke(*args: str, journal: bool = True) -> Result:
    env = {"FLEXORM_DATABASE_URL": None, "FLEXORM_STATE_URL": None,
           "FLEXORM_JOURNAL": None if journal else "0", "COLUMNS": "200"}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def table_names(url: str) -> set[str]:
    engine = sync_engine(url)
    names = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    return names


@pytest.fixture
def app_module(sqlite_url: str, tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    create_tables(sqlite_url)
    (tmp_path / "journal_cli_app.py").write_text(APP.format(url=sqlite_url))
    monkeypatch.chdir(tmp_path)
    yield "journal_cli_app:flex"
    sys.modules.pop("journal_cli_app", None)


def test_listing_actions_needs_no_tables(app_module: str, sqlite_url: str) -> None:
    result = invoke("actions", "--app", app_module, "--json")
    assert result.exit_code == 0, result.output
    assert [action["name"] for action in json.loads(result.stdout)] == ["cancel"]
    assert not any(name.startswith("flexorm_") for name in table_names(sqlite_url))


def test_call_refuses_without_the_tables_and_says_what_to_run(app_module: str,
                                                              sqlite_url: str) -> None:
    result = CliRunner().invoke(main, ["call", "cancel", "--app", app_module, "--id", "1"],
                                env={"FLEXORM_JOURNAL": None, "FLEXORM_AUTO_UPGRADE": None})
    assert result.exit_code != 0
    assert f"run `flexorm db upgrade {sqlite_url}`" in result.output
    assert "FLEXORM_AUTO_UPGRADE=1" in result.output


def test_runs_reads_the_journal_of_an_app(app_module: str, sqlite_url: str) -> None:
    assert invoke("db", "upgrade", sqlite_url).exit_code == 0
    called = invoke("call", "cancel", "--app", app_module, "--id", "2", "--param", "pin=7")
    assert called.exit_code == 0, called.output
    result = invoke("runs", "--app", app_module, "--json")
    assert result.exit_code == 0, result.output
    [run] = json.loads(result.stdout)
    assert (run["action"], run["ids"], run["status"], run["caller_kind"]) == (
        "cancel", ["2"], "succeeded", "cli")  # the ids as sent
    assert run["params"] == {"pin": "[redacted]"}
    table = invoke("runs", "--app", app_module)
    assert "cancel" in table.stdout
    assert "succeeded" in table.stdout


def test_runs_prints_what_clients_sent_as_text(app_module: str, sqlite_url: str) -> None:
    # ids and messages come from clients: rich must not read them as markup
    assert invoke("db", "upgrade", sqlite_url).exit_code == 0
    refused = invoke("call", "cancel", "--app", app_module, "--id", "[/red]")
    assert refused.exit_code != 0
    table = invoke("runs", "--app", app_module)
    assert table.exit_code == 0, table.output
    assert "[/red]" in table.stdout
    assert "rejected" in table.stdout


def test_runs_takes_a_url_or_an_app_not_both(app_module: str, sqlite_url: str) -> None:
    result = invoke("runs", sqlite_url, "--app", app_module)
    assert result.exit_code == 2
    assert "give either DATABASE_URL or --app, not both" in result.output


def test_the_demo_creates_its_own_tables_and_records_its_calls(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    # the demo reads its settings when imported: not as another test's environment left them
    monkeypatch.delitem(sys.modules, "flexorm._demo.shop", raising=False)
    result = invoke("call", "sales_report", "--param", "days=7")
    assert result.exit_code == 0, result.output
    demo = f"sqlite:///{tmp_path / 'flexorm-demo.db'}"
    assert "flexorm_action_runs" in table_names(demo)
    runs = json.loads(invoke("runs", demo, "--json").stdout)
    assert [(run["action"], run["status"]) for run in runs] == [("sales_report", "succeeded")]


@pytest.mark.parametrize(("args", "error"), [
    (["runs", "foo://bar"], "Error: cannot use foo://bar: Can't load plugin"),
    (["runs", "show", "5", "foo://bar"], "Error: cannot use foo://bar: Can't load plugin"),
    (["runs", "prune", "--older-than", "999999d", "{url}"],
     "Error: --older-than must be at most 100 years, not '999999d'"),
    (["runs", "prune", "--older-than", "99999999999d", "{url}"],
     "Error: --older-than must be at most 100 years"),
    (["runs", "show", "9223372036854775808", "{url}"], "Error: Invalid value for 'RUN'"),
    (["runs", "cancel", "99999999999999999999", "{url}"], "Error: Invalid value for 'RUN'"),
    (["runs", "--limit", "99999999999999999999", "{url}"], "Error: Invalid value for '--limit'"),
])
def test_runs_commands_refuse_what_they_cannot_use_in_one_line(
        sqlite_url: str, args: list[str], error: str) -> None:
    invoke("db", "upgrade", sqlite_url)
    result = CliRunner().invoke(main, [arg.format(url=sqlite_url) for arg in args])
    assert result.exit_code == 2, result.output
    assert error in result.output
    assert isinstance(result.exception, SystemExit)  # no exception escaped: one line


def test_runs_on_tables_behind_this_version_says_what_to_run(sqlite_url: str) -> None:
    first = "92f1e2af60e0"  # the journal's first revision
    assert invoke("db", "upgrade", sqlite_url, "--to", first).exit_code == 0
    result = CliRunner().invoke(main, ["runs", sqlite_url])
    assert result.exit_code == 2, result.output
    assert f"are at revision {first}, behind" in result.output
    assert f"run `flexorm db upgrade {sqlite_url}`" in result.output
