"""``flexorm actions`` and ``flexorm call`` on SQLite and PostgreSQL, through the same path as the
endpoint."""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from litestar.testing import TestClient

from flexorm.cli import main
from tests.conftest import sync_engine
from tests.integration.server_app import AUTH, build_flex, create_schema, snapshot

_names = itertools.count()


@pytest.fixture
def app_path(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``--app`` naming the server tests' Flex on this database, importable from tmp_path."""
    create_schema(db_url)
    name = f"cli_target_{next(_names)}"
    (tmp_path / f"{name}.py").write_text(
        "from tests.integration.server_app import build_flex\n"
        f"flex = build_flex({db_url!r})\n"
    )
    monkeypatch.chdir(tmp_path)
    yield f"{name}:flex"
    sys.modules.pop(name, None)


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def test_actions_json_is_exactly_get_action_list(app_path, db_url):
    result = run("actions", "--app", app_path, "--json")
    assert result.exit_code == 0, result.output
    with TestClient(build_flex(db_url).app) as client:
        served = client.post("/api/messages/", json={"name": "get_action_list"}, headers=AUTH)
    assert json.loads(result.output) == served.json()


def test_actions_table(app_path):
    result = run("actions", "--app", app_path)
    assert result.exit_code == 0, result.output
    for name in ("ship", "refund", "count_orders", "ping"):
        assert name in result.output
    assert "carrier: CharField" in result.output


def test_actions_lists_background_actions_without_flexorm_tables(db_url, tmp_path,
                                                                  monkeypatch):
    """As served, background actions and the action that cancels their runs are listed; the
    listing needs neither flexorm's tables nor a runner (none is started, nothing created)."""
    create_schema(db_url)
    (tmp_path / "cli_background.py").write_text(
        "from tests.integration.server_app import build_flex\n"
        f"flex = build_flex({db_url!r}, changes={{'journal': True}})\n"
        "@flex.action(model='orders', for_instance=True, bulk=True, background=True)\n"
        "def recount(orders) -> int:\n"
        "    return len(orders)\n"
    )
    monkeypatch.chdir(tmp_path)
    try:
        result = run("actions", "--app", "cli_background:flex", "--json")
    finally:
        sys.modules.pop("cli_background", None)
    assert result.exit_code == 0, result.output
    listed = {action["name"]: action for action in json.loads(result.output)}
    assert listed["recount"]["model_action"] == {"model": "orders", "for_instance": True,
                                                  "bulk": True}
    assert [p["name"] for p in listed["flexorm_cancel_run"]["params"]] == ["run"]
    engine = sync_engine(db_url)
    try:
        assert not [t for t in sa.inspect(engine).get_table_names() if t.startswith(
            ("flexorm_", "procrastinate_"))]
    finally:
        engine.dispose()


def test_call_bulk_writes(app_path, db_url):
    result = run("call", "ship", "--app", app_path, "--ids", "1,2", "--param", "carrier=UPS",
                 "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"result": 2}
    assert [r[1] for r in snapshot(db_url)[:3]] == ["shipped", "shipped", "paid"]


def test_call_inverse(app_path, db_url):
    result = run("call", "ship", "--app", app_path, "--ids", "1", "--inverse",
                 "--param", "carrier=x")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "4"


def test_call_single_record_coerces_its_parameter(app_path):
    result = run("call", "refund", "--app", app_path, "--model", "orders", "--id", "2",
                 "--param", "amount=3.50", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"result": {"id": 2, "amount": "3.50", "reason": ""}}


def test_call_collection_and_common(app_path):
    assert run("call", "count_orders", "--app", app_path, "--json").output.strip() == (
        '{"result":5}')
    assert run("call", "ping", "--app", app_path, "--json").output.strip() == '{"result":true}'


def test_validation_errors_are_printed_per_field(app_path, db_url):
    before = snapshot(db_url)
    result = run("call", "refund", "--app", app_path, "--id", "1", "--param", "amount=lots",
                 "--param", "bogus=1")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert {line.split(":")[1].strip() for line in lines} == {"amount", "bogus"}
    assert all(line.startswith("Error: ") for line in lines)
    assert snapshot(db_url) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["refuse", "--ids", "1,2"], "Error: orders cannot be refused today"),
        (["explode", "--ids", "1"], "Error: the action failed: RuntimeError: boom"),
        (["nope"], "Error: unknown action 'nope'"),
        (["ship", "--param", "carrier=x"], "Error: action 'ship' runs on records: send their ids"),
        (["ship", "--ids", "1,99", "--param", "carrier=x"], "Error: ids: "),
    ],
)
def test_failures_are_one_line_exit_1_and_write_nothing(app_path, db_url, args, message):
    before = snapshot(db_url)
    result = run("call", *args, "--app", app_path)
    assert result.exit_code == 1, result.output
    assert result.output.startswith(message)
    assert "Traceback" not in result.output
    assert snapshot(db_url) == before


def test_id_and_ids_together_is_a_usage_error(app_path):
    result = run("call", "ship", "--app", app_path, "--id", "1", "--ids", "2")
    assert result.exit_code == 2
    assert "--id cannot be combined with --ids or --inverse" in result.output


def test_json_parameter_values(app_path):
    result = run("call", "refund", "--app", app_path, "--id", "1", "--param", "amount=[1",
                 "--json")
    assert result.exit_code == 2
    assert "amount: not JSON" in result.output


def test_demo_from_an_empty_directory(tmp_path, monkeypatch):

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLEXORM_DATABASE_URL", raising=False)
    result = run("actions", "--json")
    assert result.exit_code == 0, result.output
    assert {"account_transfer", "reprice_products", "flexorm_cancel_run"} <= {
        a["name"] for a in json.loads(result.output)}
    result = run("call", "account_transfer", "--model", "income", "--param", "account_from=1",
                 "--param", "amount_from=25", "--param", "account_to=2",
                 "--param", "amount_to=25", "--json")
    assert (result.exit_code, result.output.strip()) == (0, '{"result":true}')
    assert (tmp_path / "flexorm-demo.db").is_file()


def test_the_demo_named_with_app_on_an_empty_database_creates_its_tables(db_url):
    """``--app flexorm._demo.shop:app URL``: the demo on a database of the user's is the demo
    too; it creates and seeds its tables there, as its own lifespan would."""
    result = run("actions", "--app", "flexorm._demo.shop:app", db_url, "--json")
    assert result.exit_code == 0, result.output
    assert "account_transfer" in {a["name"] for a in json.loads(result.output)}
    engine = sync_engine(db_url)
    assert {"accounts", "orders", "products"} <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


def test_call_dry_run_prints_the_changes_and_a_token_that_saves(app_path, db_url):
    before = snapshot(db_url)
    result = run("call", "ship", "--app", app_path, "--ids", "1,2", "--param", "carrier=UPS",
                 "--dry-run")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert (answer["result"], answer["dry_run"]) == (2, True)
    assert answer["changes"]["orders"]["updated"] == 2
    assert snapshot(db_url) == before
    saved = run("call", "ship", "--app", app_path, "--ids", "1,2", "--param", "carrier=UPS",
                "--preview-token", answer["preview_token"], "--json")
    assert json.loads(saved.output) == {"result": 2}
    stale = run("call", "ship", "--app", app_path, "--ids", "1,2", "--param", "carrier=DHL",
                "--preview-token", answer["preview_token"])
    assert stale.exit_code == 1
    assert "made for another action" in stale.output
