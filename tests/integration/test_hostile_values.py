"""Values no database takes (a lone surrogate, a non-finite number), sent over HTTP on SQLite
and PostgreSQL: a 400 under the field that held them, the database untouched, and one
``rejected`` journal row holding the values made fit to store."""

from __future__ import annotations

from typing import Any

import pytest

from flexorm.protocol.values import LONE_SURROGATE, NOT_FINITE
from tests.integration._journal_shop import (
    AUTH,
    client,
    create_tables,
    hits,
    make_flex,
    runs,
    status_of,
)


@pytest.fixture
def url(db_url: str) -> str:
    create_tables(db_url)
    return db_url


def _post(http: Any, body: str) -> tuple[int, Any]:
    response = http.post("/api/messages/", content=body.encode("utf-8"),
                         headers={**AUTH, "Content-Type": "application/json"})
    return response.status_code, response.json()


def _cancel(params: str) -> str:
    return ('{"name": "execute_action", "params": {"model": "orders", "name": "cancel", '
            + params + "}}")


@pytest.mark.parametrize(("params", "field", "why", "recorded"), [
    ('"id": 1, "params": {"reason": "late \\ud800"}', "reason", LONE_SURROGATE,
     {"reason": "late \ufffd"}),
    ('"id": "\\udc00"', "id", LONE_SURROGATE, {}),
    ('"ids": [1, "2\\udfff"]', "ids", LONE_SURROGATE, {}),
    ('"id": 1, "params": {"reason": 1e400}', "reason", NOT_FINITE, {"reason": "inf"}),
    ('"id": 1, "params": {"reason": NaN}', "reason", NOT_FINITE, {"reason": "nan"}),
    ('"id": 1, "params": {"reason": -Infinity}', "reason", NOT_FINITE, {"reason": "-inf"}),
    ('"id": 1, "params": {"idempotency_key": "k\\ud800"}', "idempotency_key", LONE_SURROGATE,
     {}),
])
def test_a_value_no_database_takes_is_refused_and_recorded(
        url: str, params: str, field: str, why: str, recorded: dict[str, Any]) -> None:
    with client(make_flex(url)) as http:
        status, body = _post(http, _cancel(params))
    assert (status, body) == (400, {field: [why]})
    assert (status_of(url, 1), status_of(url, 2), hits(url)) == ("new", "new", 0)
    [run] = runs(url)
    assert (run.action, run.status, run.error) == ("cancel", "rejected", why)
    assert run.params == recorded


def test_an_unknown_action_named_with_a_lone_surrogate_is_recorded_scrubbed(url: str) -> None:
    with client(make_flex(url)) as http:
        status, body = _post(http, '{"name": "execute_action", "params": {"model": "orders", '
                                   '"name": "can\\ud800cel", "id": 1}}')
    assert (status, body) == (400, {"name": [LONE_SURROGATE]})
    [run] = runs(url)
    assert (run.action, run.status) == ("can\ufffdcel", "rejected")


def test_other_messages_with_such_values_are_refused(url: str) -> None:
    with client(make_flex(url)) as http:
        status, body = _post(http, '{"name": "get_field_options", "params": {"model": "orders",'
                                   ' "field": "status", "query": "\\ud800"}}')
    assert (status, body) == (400, {"query": [LONE_SURROGATE]})
    assert runs(url) == []


def test_a_result_holding_a_lone_surrogate_answers_and_is_recorded(url: str) -> None:
    flex = make_flex(url)

    @flex.action(model="orders", for_instance=True)
    def echo(order: Any) -> dict[str, Any]:
        order.status = "echoed"
        return {"text": "half \ud800 a pair", "ratio": float("nan")}

    with client(flex) as http:
        status, body = _post(http, '{"name": "execute_action", "params": {"model": "orders", '
                                   '"name": "echo", "id": 3}}')
    assert (status, body) == (200, {"result": {"text": "half \ufffd a pair", "ratio": None}})
    assert status_of(url, 3) == "echoed"
    [run] = runs(url)
    assert (run.status, run.result) == ("succeeded", {"text": "half \ufffd a pair",
                                                      "ratio": None})
