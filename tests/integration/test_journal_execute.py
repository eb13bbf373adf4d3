"""Every ``execute_action`` over HTTP leaves one journal row, on SQLite and PostgreSQL: what it
holds, which transaction it commits in, and that writing it never changes the answer."""

from __future__ import annotations

import logging
from pathlib import Path

import anyio
import pytest
import sqlalchemy as sa

from flexorm import Flex
from flexorm.auth.caller import Caller
from flexorm.exceptions import ConfigurationError, MigrationError
from flexorm.journal import REDACTED
from flexorm.protocol.requests import ExecuteRequest
from tests.conftest import sync_engine
from tests.integration._journal_shop import (
    AUTH,
    TOKENS,
    client,
    create_tables,
    execute,
    hits,
    logged,
    make_flex,
    runs,
    status_of,
)


def start(flex: Flex) -> None:
    """Open the app's runtime, as its startup does."""
    async def run() -> None:
        async with flex.runtime():
            pass

    anyio.run(run)


def table_names(url: str) -> list[str]:
    engine = sync_engine(url)
    names = sa.inspect(engine).get_table_names()
    engine.dispose()
    return names


@pytest.fixture
def url(db_url: str) -> str:
    create_tables(db_url)
    return db_url


def test_a_sync_success_is_recorded_with_everything_a_reader_needs(url: str) -> None:
    with client(make_flex(url)) as http:
        status, answer = execute(http, "cancel", id=2, params={"reason": "late", "pin": "4321"},
                                 headers={"X-Request-ID": "req-42"})
    assert (status, answer) == (200, {"result": "cancelled"})
    [run] = runs(url)
    assert (run.action, run.collection, run.ids, run.inverse) == ("cancel", "orders", (2,), False)
    assert run.params == {"reason": "late", "pin": REDACTED}
    assert (run.caller_kind, run.caller_user_id, run.caller_key_name) == ("key", None, "key-1")
    assert (run.status, run.result, run.error) == ("succeeded", "cancelled", None)
    assert run.request_id == "req-42"
    assert run.idempotency_key is None
    assert run.started_at <= run.finished_at
    assert run.duration_ms >= 0


def test_an_async_bulk_success_and_an_inverse_selection_are_recorded(url: str) -> None:
    with client(make_flex(url)) as http:
        status, answer = execute(http, "ship", ids=[1, 3], inverseIds=True,
                                 params={"pin": "0000"})
    assert (status, answer) == (200, {"result": 3})
    [run] = runs(url)
    assert (run.action, run.ids, run.inverse, run.status, run.result) == (
        "ship", (1, 3), True, "succeeded", 3)
    assert run.params == {"pin": REDACTED}


def test_a_request_without_a_request_id_gets_one_of_its_own(url: str) -> None:
    with client(make_flex(url)) as http:
        execute(http, "cancel", id=1)
        execute(http, "cancel", id=2)
    first, second = runs(url)
    assert first.request_id
    assert second.request_id
    assert first.request_id != second.request_id


def test_no_secret_reaches_the_journal(url: str) -> None:
    with client(make_flex(url)) as http:
        execute(http, "cancel", id=1, params={"pin": "pin-7777"})
        execute(http, "ship", ids=[2], params={"pin": "pin-8888"})
        execute(http, "ship", ids=[2], params={"pin": "pin-9999", "bogus": 1})  # rejected
    engine = sync_engine(url)
    with engine.connect() as conn:
        stored = repr(conn.execute(sa.text("SELECT * FROM flexorm_action_runs")).all())
    engine.dispose()
    assert "pin-" not in stored
    assert not any(token in stored for token in TOKENS)
    assert [run.params["pin"] for run in runs(url)] == [REDACTED] * 3


def test_a_validation_rejection_is_recorded_and_writes_nothing(url: str) -> None:
    with client(make_flex(url)) as http:
        status, answer = execute(http, "cancel", ids=[1, 99])
    assert status == 400
    assert answer == {"ids": ["no orders record with id 99"]}
    [run] = runs(url)
    assert (run.status, run.ids, run.result) == ("rejected", (1, 99), None)
    assert run.error == "ids: no orders record with id 99"
    assert status_of(url, 1) == "new"


def test_a_body_failure_is_recorded_and_its_writes_are_rolled_back(url: str) -> None:
    with client(make_flex(url)) as http:
        status, answer = execute(http, "explode", id=1)
        cancelled, _ = execute(http, "cancel", ids=[1])  # still new: explode wrote nothing
        again, refusal = execute(http, "cancel", ids=[1])
    assert (status, answer["error_code"]) == (500, "internal_error")
    assert (cancelled, again, refusal) == (200, 400, {"non_field_errors": ["order 1 is cancelled"]})
    explode, cancel, not_new = runs(url)
    assert (explode.status, explode.error) == ("failed", "RuntimeError: the mail server is down")
    assert (cancel.status, not_new.status, not_new.error) == ("succeeded", "failed",
                                                             "order 1 is cancelled")
    assert hits(url, "explode") == 0


def test_an_error_holding_text_no_column_takes_is_still_answered_and_recorded(
        any_url: str) -> None:
    """A NUL character or a lone surrogate in an error's message (PostgreSQL refuses the one
    in text, every driver the other) is stored as U+FFFD, and an ``ActionError`` given an
    exception answers with its text: the run is recorded all the same."""
    url = any_url
    create_tables(url)
    with client(make_flex(url)) as http:
        refused, refusal = execute(http, "refuse_oddly", id=1)
        failed, failure = execute(http, "explode_oddly", id=2)
        refused_too, refusal_too = execute(http, "refuse_with_an_error", id=3)
    assert (refused, refusal) == (400, {"non_field_errors": ["заказ 1 is\x00 odd \ufffd 🚚"]})
    assert (failed, failure["error_code"]) == (500, "internal_error")
    assert (refused_too, refusal_too) == (400, {"non_field_errors": ["order 3 has no address"]})
    refuse, explode, refuse_too = runs(url)
    assert (refuse_too.status, refuse_too.error) == ("failed", "order 3 has no address")
    assert (refuse.status, refuse.error) == ("failed", "заказ 1 is\ufffd odd \ufffd 🚚")
    assert (explode.status, explode.error) == (
        "failed", "RuntimeError: the mail\ufffdserver is \ufffd down")


def test_a_permission_refusal_is_recorded_as_rejected(url: str) -> None:
    with client(make_flex(url)) as http:
        status, answer = execute(http, "forbidden", id=1)
    assert (status, answer["error_code"]) == (403, "permission_denied")
    [run] = runs(url)
    assert (run.status, run.error) == ("rejected", "you may not run the action 'forbidden'")
    assert status_of(url, 1) == "new"


def test_an_unknown_action_is_recorded_with_every_value_redacted(url: str) -> None:
    with client(make_flex(url)) as http:
        status, _ = execute(http, "refund", id=1, params={"card": "4111"})
    assert status == 400
    [run] = runs(url)
    assert (run.action, run.status, run.params) == ("refund", "rejected", {"card": REDACTED})


def test_the_success_row_commits_in_the_actions_own_transaction(url: str) -> None:
    # the body makes the journal row impossible to write: its own writes must not commit
    with client(make_flex(url)) as http:
        status, _ = execute(http, "hide_the_journal", id=1)
    assert status == 500
    [run] = runs(url)  # the table is back (rolled back), holding the failure
    assert run.status == "failed"
    assert status_of(url, 1) == "new"
    assert hits(url) == 0


def test_a_journal_that_cannot_be_written_does_not_change_a_rejection(url: str) -> None:
    with client(make_flex(url)) as http:
        engine = sync_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE flexorm_action_runs RENAME TO runs_elsewhere")
        engine.dispose()
        with logged("flexorm.actions") as records:
            status, answer = execute(http, "cancel", ids=[99])
    assert (status, answer) == (400, {"ids": ["no orders record with id 99"]})
    assert [record.getMessage() for record in records] == [
        "could not record the rejected run of action 'cancel' in the journal"]


def test_a_separate_state_database_holds_the_journal(url: str, tmp_path: Path) -> None:
    state = f"sqlite:///{tmp_path / 'state.db'}"
    with client(make_flex(url, state_url=state)) as http:
        ok, _ = execute(http, "cancel", id=1)
        failed, _ = execute(http, "explode", id=2)
    assert (ok, failed) == (200, 500)
    assert [(run.action, run.status) for run in runs(state)] == [("cancel", "succeeded"),
                                                                ("explode", "failed")]
    assert "flexorm_action_runs" not in table_names(url)
    assert status_of(url, 1) == "cancelled"


def test_without_the_journal_nothing_is_recorded_and_keys_are_refused(url: str) -> None:
    with client(make_flex(url, journal=False)) as http:
        ok, _ = execute(http, "cancel", id=1)
        status, answer = execute(http, "cancel", id=2, headers={"Idempotency-Key": "k"})
    assert ok == 200
    assert status == 400
    assert answer == {"idempotency_key": [
        "idempotency keys need flexorm's journal, which this server runs without "
        "(FLEXORM_JOURNAL is off)"]}
    assert status_of(url, 2) == "new"
    assert not any(name.startswith("flexorm_") for name in table_names(url))


def test_the_server_refuses_to_start_without_the_tables_and_says_what_to_run(
        sqlite_url: str) -> None:
    create_tables(sqlite_url)
    flex = make_flex(sqlite_url, auto_upgrade=False)
    with pytest.raises(MigrationError) as raised:
        start(flex)
    assert raised.value.message == (
        f"flexorm's tables are missing from {sqlite_url}: run `flexorm db upgrade {sqlite_url}`"
        ", or set FLEXORM_AUTO_UPGRADE=1 to migrate at startup")


def test_a_server_that_cannot_start_logs_what_to_run(sqlite_url: str) -> None:
    create_tables(sqlite_url)
    flex = make_flex(sqlite_url, auto_upgrade=False)
    with logged("flexorm.server") as records, pytest.raises(ExceptionGroup) as raised, \
            client(flex):
        pass
    assert raised.group_contains(MigrationError)
    assert [record.getMessage() for record in records if record.levelno >= logging.ERROR] == [
        f"flexorm cannot start: flexorm's tables are missing from {sqlite_url}: run "
        f"`flexorm db upgrade {sqlite_url}`, or set FLEXORM_AUTO_UPGRADE=1 to migrate at startup"]


def test_the_startup_message_hides_the_password(pg_url: str) -> None:
    create_tables(pg_url)
    with_password = sa.make_url(pg_url).set(password="hunter2")  # the test server trusts
    flex = make_flex(with_password.render_as_string(hide_password=False), auto_upgrade=False)
    with pytest.raises(MigrationError) as raised:
        start(flex)
    assert "hunter2" not in raised.value.message
    assert "flexorm db upgrade postgresql://" in raised.value.message


def test_the_journal_is_a_read_only_collection_and_flexorms_other_tables_are_hidden(
        url: str) -> None:
    with client(make_flex(url)) as http:
        models = http.get("/api/model_descriptions/", headers=AUTH).json()
    by_name = {model["model"]: model for model in models}
    assert set(by_name) == {"orders", "hits", "flexorm_action_runs"}
    assert {field["editable"] for field in by_name["flexorm_action_runs"]["fields"]} == {False}
    assert {field["editable"] for field in by_name["orders"]["fields"]} == {True}


def test_an_action_on_flexorms_own_table_stops_startup(url: str) -> None:
    flex = make_flex(url)

    @flex.action(model="flexorm_action_runs", for_instance=True)
    def scrub(run: object) -> None: ...

    with pytest.raises(ConfigurationError, match="one of flexorm's own tables"):
        start(flex)


def test_a_reloaded_runtime_keeps_recording(url: str) -> None:
    async def run() -> None:
        async with make_flex(url).runtime() as runtime:
            engine = sync_engine(url)
            with engine.begin() as conn:
                conn.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
            engine.dispose()
            reloaded = await runtime.reload()
            assert "notes" in reloaded.schema
            await reloaded.actions.execute(
                ExecuteRequest(action="cancel", model="orders", ids=(1,)),
                caller=Caller(kind="cli"))

    anyio.run(run)
    assert [(run.action, run.caller_kind) for run in runs(url)] == [("cancel", "cli")]
