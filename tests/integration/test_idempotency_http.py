"""Idempotency keys over HTTP, on SQLite and PostgreSQL: a retry replays, a reuse conflicts, a
failure releases the key, an expired key runs again, and concurrent requests with one key run
the body once."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from flexorm import Flex
from flexorm.journal.tables import idempotency_keys
from tests._served import served
from tests.conftest import sync_engine
from tests.integration._journal_shop import (
    AUTH,
    OTHER_AUTH,
    Gate,
    client,
    create_tables,
    execute,
    hits,
    key_rows,
    make_flex,
    runs,
    status_of,
)

KEY = {"Idempotency-Key": "3f1c9a0e-retry"}
CONFLICT = "idempotency_conflict"
NOT_KEPT = "idempotency_answer_not_kept"


def not_kept(run_id: int | None, size: int) -> tuple[int, dict[str, str]]:
    return 409, {"error": f"the action already ran with this Idempotency-Key (run {run_id}, "
                          f"succeeded), but its result ({size:,} bytes) was too large to keep, "
                          "so its answer cannot be sent again", "error_code": NOT_KEPT}


@pytest.fixture
def url(db_url: str) -> str:
    create_tables(db_url)
    return db_url


def test_a_retry_replays_the_stored_answer_without_running_the_body(url: str) -> None:
    with client(make_flex(url)) as http:
        first = execute(http, "cancel", id=1, params={"reason": "x"}, headers=KEY)
        retry = execute(http, "cancel", id=1, params={"reason": "x"}, headers=KEY)
    assert first == retry == (200, {"result": "cancelled"})  # not "order 1 is cancelled"
    assert hits(url, "cancel") == 1
    [run] = runs(url)  # the replay is not a run
    assert (run.status, run.idempotency_key) == ("succeeded", "3f1c9a0e-retry")
    assert [row["status"] for row in key_rows(url)] == ["done"]


def test_a_replay_of_an_async_body_and_of_a_key_sent_in_the_params(url: str) -> None:
    body = {"ids": [2, 3], "params": {"pin": "1", "idempotency_key": "in-params"}}
    with client(make_flex(url)) as http:
        first = execute(http, "ship", **body)
        retry = execute(http, "ship", ids=[2, 3], params={"pin": "1"}, idempotency_key="in-params")
        header = execute(http, "ship", ids=[2, 3], params={"pin": "1"},
                         headers={"Idempotency-Key": "in-params"})
    assert first == retry == header == (200, {"result": 2})
    assert hits(url, "ship") == 1
    [run] = runs(url)
    assert run.params == {"pin": "[redacted]"}  # the key is not a parameter
    assert run.idempotency_key == "in-params"


def test_the_same_key_for_another_payload_is_a_conflict(url: str) -> None:
    with client(make_flex(url)) as http:
        execute(http, "cancel", id=1, headers=KEY)
        other_id = execute(http, "cancel", id=2, headers=KEY)
        other_params = execute(http, "cancel", id=1, params={"reason": "y"}, headers=KEY)
        other_action = execute(http, "ship", ids=[1], params={"pin": "1"}, headers=KEY)
    expected = (409, {"error": "this Idempotency-Key was already used for a different action "
                               "or payload", "error_code": CONFLICT})
    assert other_id == other_params == other_action == expected
    assert status_of(url, 2) == "new"
    assert [run.status for run in runs(url)] == ["succeeded", "rejected", "rejected", "rejected"]
    assert [row["status"] for row in key_rows(url)] == ["done"]  # the conflicts left it alone


def test_keys_differing_in_case_or_beyond_latin1_are_different_keys(any_url: str) -> None:
    """On every database, MariaDB with its latin1 default included: a key is compared byte for
    byte, and a key and a reason in any script are kept (the key sent in the message)."""
    create_tables(any_url)
    with client(make_flex(any_url)) as http:
        upper = execute(http, "cancel", id=1, params={"reason": "заказ 🚚"},
                        idempotency_key="Key-Ä")
        lower = execute(http, "cancel", id=2, idempotency_key="key-ä")
        again = execute(http, "cancel", id=1, params={"reason": "заказ 🚚"},
                        idempotency_key="Key-Ä")
        cyrillic = execute(http, "cancel", id=3, idempotency_key="ключ")
    assert upper == lower == again == cyrillic == (200, {"result": "cancelled"})
    assert [status_of(any_url, i) for i in (1, 2, 3)] == ["cancelled"] * 3
    first, second, third = runs(any_url)
    assert (first.idempotency_key, first.params["reason"]) == ("Key-Ä", "заказ 🚚")
    assert (second.idempotency_key, third.idempotency_key) == ("key-ä", "ключ")
    assert sorted(row["key"] for row in key_rows(any_url)) == ["Key-Ä", "key-ä", "ключ"]


def test_a_replay_of_an_answer_too_large_to_keep_is_a_conflict_and_runs_nothing(
        any_url: str) -> None:
    create_tables(any_url)
    with client(make_flex(any_url, journal_result_limit=1000)) as http:
        first = execute(http, "export", params={"size": 5000}, headers=KEY)
        retry = execute(http, "export", params={"size": 5000}, headers=KEY)
        small = execute(http, "export", params={"size": 10}, idempotency_key="small")
        small_again = execute(http, "export", params={"size": 10}, idempotency_key="small")
    assert first == (200, {"result": "x" * 5000})
    ran, refused, _ = runs(any_url)  # a replay is not a run
    assert retry == not_kept(ran.id, 5002)
    assert small == small_again == (200, {"result": "x" * 10})  # kept: replayed
    assert hits(any_url, "export") == 2  # the first key's body ran once
    assert (ran.status, ran.result, ran.idempotency_key) == ("succeeded", None, KEY[
        "Idempotency-Key"])
    assert (refused.status, refused.error) == ("rejected", retry[1]["error"])
    big_key = next(row for row in key_rows(any_url) if row["key"] == KEY["Idempotency-Key"])
    assert big_key["status"] == "done"
    assert big_key["response"] == {"flexorm_answer_not_kept": {
        "bytes": 5002, "run": ran.id, "status": "succeeded"}}


@pytest.mark.parametrize("where", ["read-only run on SQLite", "separate state database"])
def test_an_answer_not_kept_after_the_commit_is_a_conflict_too(sqlite_url: str,
                                                               tmp_path: Path,
                                                               where: str) -> None:
    """The key's answer stored after the action's transaction: an action that only reads, on
    SQLite, and every run with a separate state database."""
    create_tables(sqlite_url)
    state = f"sqlite:///{tmp_path / 'state.db'}" if where != "read-only run on SQLite" else None
    with client(make_flex(sqlite_url, journal_result_limit=1000, state_url=state)) as http:
        first = execute(http, "look", params={"size": 3000}, headers=KEY)
        retry = execute(http, "look", params={"size": 3000}, headers=KEY)
    assert first == (200, {"result": "x" * 3000})
    ran, refused = runs(state or sqlite_url)
    assert retry == not_kept(ran.id, 3002)
    assert (ran.status, refused.status) == ("succeeded", "rejected")


def test_an_http_operations_key_whose_answer_was_not_kept_conflicts_the_same_way(
        url: str) -> None:
    with client(make_flex(url, journal_result_limit=1000)) as http:
        answers = [http.post("/api/actions/orders/export", json={"size": 5000},
                             headers={**AUTH, **KEY}) for _ in range(2)]
    assert (answers[0].status_code, answers[0].json()) == (200, {"result": "x" * 5000})
    ran, _ = runs(url)
    assert (answers[1].status_code, answers[1].json()) == not_kept(ran.id, 5002)
    assert (ran.interface, hits(url, "export")) == ("http", 1)


def test_a_key_is_not_replayed_to_another_caller(url: str) -> None:
    with client(make_flex(url)) as http:
        execute(http, "cancel", id=1, headers=KEY)
        status, answer = execute(http, "cancel", id=1, headers={**KEY, **OTHER_AUTH})
    assert (status, answer["error_code"]) == (409, CONFLICT)


def test_a_failure_releases_the_key_so_a_retry_runs_again(url: str) -> None:
    with client(make_flex(url)) as http:
        failed = execute(http, "explode", id=1, headers=KEY)
        assert key_rows(url) == []
        rejected = execute(http, "cancel", ids=[1, 99], headers=KEY)
        assert key_rows(url) == []
        retried = execute(http, "cancel", ids=[1], headers=KEY)
    assert (failed[0], rejected[0], retried) == (500, 400, (200, {"result": "cancelled"}))
    assert [run.status for run in runs(url)] == ["failed", "rejected", "succeeded"]


def test_an_expired_key_runs_again(url: str) -> None:
    with client(make_flex(url, idempotency_ttl_seconds=60)) as http:
        execute(http, "cancel", id=1, headers=KEY)
        [row] = key_rows(url)
        assert row["expires_at"] is not None
        engine = sync_engine(url)
        with engine.begin() as conn:  # an hour later: the key's time is up
            conn.execute(idempotency_keys.update().values(
                expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        engine.dispose()
        status, answer = execute(http, "cancel", id=1, headers=KEY)
    assert (status, answer) == (400, {"non_field_errors": ["order 1 is cancelled"]})
    assert hits(url, "cancel") == 1


def test_a_key_still_running_is_a_conflict_then_replays(url: str) -> None:
    gate = Gate()
    flex = make_flex(url, gate=gate)
    with client(flex) as http, ThreadPoolExecutor(1) as pool:
        first = pool.submit(execute, http, "slow_cancel", id=1, headers=KEY)
        assert gate.entered.wait(timeout=60)
        during = execute(http, "slow_cancel", id=1, headers=KEY)
        gate.opened.set()
        done = first.result(timeout=60)
        after = execute(http, "slow_cancel", id=1, headers=KEY)
    assert during == (409, {"error": "a request with this Idempotency-Key is still running; "
                                     "retry later", "error_code": CONFLICT})
    assert done == after == (200, {"result": "cancelled"})
    assert hits(url, "slow_cancel") == 1


def test_two_different_keys_in_one_request_are_refused(url: str) -> None:
    with client(make_flex(url)) as http:
        status, answer = execute(http, "cancel", id=1, idempotency_key="a",
                                 headers={"Idempotency-Key": "b"})
    assert status == 400
    assert answer == {"idempotency_key": ["the request carries two different idempotency keys"]}
    assert status_of(url, 1) == "new"


def test_a_key_longer_than_the_journal_keeps_is_refused(url: str) -> None:
    with client(make_flex(url)) as http:
        status, answer = execute(http, "cancel", id=1, headers={"Idempotency-Key": "k" * 256})
    assert status == 400
    assert answer == {"idempotency_key": ["an idempotency key has at most 255 characters"]}
    [run] = runs(url)
    assert (run.status, run.idempotency_key) == ("rejected", None)


@pytest.mark.postgres
def test_concurrent_requests_with_one_key_run_the_body_once(pg_url: str) -> None:
    """Eight clients, each with a server of its own (its own engines and pool), send one key
    at once; the body sleeps so that they overlap. Exactly one runs it; the others get its
    answer replayed or a 409 while it runs."""
    create_tables(pg_url)
    clients = 8
    hold = threading.Event()

    def slow() -> None:
        hold.wait(timeout=0.5)  # widens the overlap; never set

    start = threading.Barrier(clients)
    # built here: importing Litestar's plugins from several threads at once is not safe
    servers = [make_flex(pg_url, gate=slow) for _ in range(clients)]
    for flex in servers:
        assert flex.app is not None

    def one_client(flex: Flex) -> tuple[int, Any]:
        with client(flex) as http:
            start.wait(timeout=60)
            return execute(http, "slow_cancel", id=1, headers=KEY)

    with ThreadPoolExecutor(clients) as pool:
        answers = list(pool.map(one_client, servers))
    assert hits(pg_url, "slow_cancel") == 1
    assert {status for status, _ in answers} <= {200, 409}
    assert [answer for status, answer in answers if status == 200] != []
    assert all(answer == {"result": "cancelled"} for status, answer in answers if status == 200)
    assert all(answer["error_code"] == CONFLICT for status, answer in answers if status == 409)
    assert [run.status for run in runs(pg_url)].count("succeeded") == 1


def test_the_key_table_is_not_a_collection(url: str) -> None:
    with client(make_flex(url)) as http:
        execute(http, "cancel", id=1, headers=KEY)
        models = {model["model"] for model in http.get(
            "/api/model_descriptions/", headers={"Authorization": OTHER_AUTH["Authorization"]}
        ).json()}
    assert "flexorm_idempotency" not in models
    assert "flexorm_alembic_version" not in models
    engine = sync_engine(url)
    assert {"flexorm_idempotency", "flexorm_alembic_version"} <= set(
        sa.inspect(engine).get_table_names())
    engine.dispose()


def test_keys_live_in_a_separate_state_database(url: str, tmp_path: Path) -> None:
    state = f"sqlite:///{tmp_path / 'state.db'}"
    with client(make_flex(url, state_url=state)) as http:
        first = execute(http, "cancel", id=1, headers=KEY)
        retry = execute(http, "cancel", id=1, headers=KEY)
        conflict = execute(http, "cancel", id=2, headers=KEY)
    assert first == retry == (200, {"result": "cancelled"})
    assert conflict[0] == 409
    assert hits(url, "cancel") == 1
    assert [row["status"] for row in key_rows(state)] == ["done"]


def test_a_key_in_the_header_is_the_text_the_client_sent(any_url: str) -> None:
    """A header arrives as bytes: UTF-8 ones are read as UTF-8 (200 characters, 400 bytes: a
    key the journal keeps), a browser's latin-1 as latin-1; either is the key the same text
    in the message would be."""
    create_tables(any_url)
    key = "é" * 200

    def send(base: str, order: int, header: bytes, **params: Any) -> tuple[int, Any]:
        response = httpx.post(f"{base}/api/messages/", headers={
            **AUTH, "Idempotency-Key": header, "X-Request-ID": header[:300]}, json={
            "name": "execute_action", "params": {"model": "orders", "name": "cancel",
                                                 "id": order, **params}})
        return response.status_code, response.json()

    with served(make_flex(any_url).app) as base:
        first = send(base, 1, key.encode())
        retry = send(base, 1, key.encode(), idempotency_key=key)  # the same key twice
        latin1 = send(base, 2, "clé".encode("latin-1"))
        again = send(base, 2, "clé".encode(), idempotency_key="clé")
        too_long = send(base, 3, ("é" * 256).encode())
    assert first == retry == latin1 == again == (200, {"result": "cancelled"})
    assert too_long == (400, {"idempotency_key": [
        "an idempotency key has at most 255 characters"]})
    assert hits(any_url, "cancel") == 2
    assert [status_of(any_url, i) for i in (1, 2, 3)] == ["cancelled", "cancelled", "new"]
    assert [(run.status, run.idempotency_key, run.request_id) for run in runs(any_url)] == [
        ("succeeded", key, "é" * 150), ("succeeded", "clé", "clé"), ("rejected", None, "é" * 150)]
    assert sorted(row["key"] for row in key_rows(any_url)) == sorted([key, "clé"])
