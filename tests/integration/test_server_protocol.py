"""The messages endpoint over HTTP, on SQLite and PostgreSQL: every request and answer shape of
the protocol (sections 1 and 2)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from litestar.testing import TestClient

from tests.integration.server_app import (
    AUTH,
    build_flex,
    create_schema,
    execute,
    server_logs,
    snapshot,
)


def post(client: TestClient, body: object) -> tuple[int, object]:
    response = client.post("/api/messages/", json=body, headers=AUTH)
    assert response.headers["content-type"] == "application/json"
    return response.status_code, response.json() if response.content else None


def test_get_action_list(client):
    status, actions = post(client, {"name": "get_action_list"})
    assert status == 200
    by_name = {action["name"]: action for action in actions}
    assert by_name["ship"]["model_action"] == {"model": "orders", "for_instance": True,
                                               "bulk": True}
    assert by_name["count_orders"]["model_action"] == {"model": "orders"}
    assert by_name["ping"]["common_action"] == {}


def test_trailing_slash_is_optional(client):
    response = client.post("/api/messages", json={"name": "get_action_list"}, headers=AUTH)
    assert response.status_code == 200
    assert isinstance(response.json(), list)


def test_single_record(client):
    assert post(client, execute({"model": "orders", "name": "refund", "id": 3,
                                 "params": {"amount": "1.25"}})) == (
        200, {"result": {"id": 3, "amount": "1.25", "reason": ""}})


def test_bulk_writes(client, db_url):
    status, body = post(client, execute({"model": "orders", "name": "ship", "ids": [1, 2],
                                         "inverseIds": False, "params": {"carrier": "UPS"}}))
    assert (status, body) == (200, {"result": 2})
    rows = snapshot(db_url)
    assert [(r[0], r[1], r[3]) for r in rows[:3]] == [(1, "shipped", "UPS"),
                                                      (2, "shipped", "UPS"), (3, "paid", None)]


def test_inverse_selection(client, db_url):
    status, body = post(client, execute({"model": "orders", "name": "ship", "ids": [1],
                                         "inverseIds": True, "params": {"carrier": "DHL"}}))
    assert (status, body) == (200, {"result": 4})
    assert [r[1] for r in snapshot(db_url)] == ["paid", "shipped", "shipped", "shipped",
                                                "shipped"]


def test_legacy_comma_ids(client):
    assert post(client, execute({"model": "orders", "name": "ship", "ids": "4,5",
                                 "params": {"carrier": "x"}})) == (200, {"result": 2})


def test_ids_inside_inner_params(client, db_url):
    assert post(client, execute({"name": "ship", "params": {"ids": [5], "carrier": "x"}})) == (
        200, {"result": 1})
    assert snapshot(db_url)[4][1] == "shipped"


def test_collection_and_common_actions(client):
    assert post(client, execute({"model": "orders", "name": "count_orders"})) == (
        200, {"result": 5})
    assert post(client, execute({"name": "ping", "params": {}})) == (200, {"result": True})


def test_params_as_a_json_string(client):
    body = {"name": "execute_action",
            "params": json.dumps({"model": "orders", "name": "refund", "id": 1,
                                  "params": {"amount": 2}})}
    assert post(client, body) == (200, {"result": {"id": 1, "amount": "2", "reason": ""}})


def test_form_encoded_body(client):
    body = urlencode({"name": "execute_action",
                      "params": json.dumps({"model": "orders", "name": "ship", "ids": [1],
                                            "params": {"carrier": "UPS"}})})
    response = client.post("/api/messages/", content=body, headers={
        **AUTH, "Content-Type": "application/x-www-form-urlencoded"})
    assert (response.status_code, response.json()) == (200, {"result": 1})


def test_get_field_options_for_a_column(client):
    status, options = post(client, {"name": "get_field_options",
                                    "params": {"model": "orders", "field": "status"}})
    assert status == 200
    assert [option["value"] for option in options] == ["new", "paid", "shipped"]


@pytest.mark.parametrize("name", ["get_element_status", "no_such_message"])
def test_unknown_message_is_an_empty_200(client, name):
    response = client.post("/api/messages/", json={"name": name, "params": {}}, headers=AUTH)
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize("is_async", [False, True])
def test_registered_message_handler_answers(sqlite_url, is_async):
    create_schema(sqlite_url)
    flex = build_flex(sqlite_url)
    seen = []

    def element_status(ctx):
        seen.append((ctx.caller.kind, dict(ctx.message.params)))
        return {"status": "ready", "collections": len(ctx.runtime.schema)}

    async def element_status_async(ctx):
        return element_status(ctx)

    flex.message("get_element_status")(element_status_async if is_async else element_status)
    with TestClient(flex.app) as client:
        status, answer = post(client, {"name": "get_element_status", "params": {"id": "x"}})
    assert (status, answer) == (200, {"status": "ready", "collections": 1})
    assert seen == [("key", {"id": "x"})]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, {"name": ["this field is required"]}),
        ([], {"name": ["this field is required"]}),
        ("text", {"name": ["this field is required"]}),
        ({"params": {}}, {"name": ["this field is required"]}),
        ({"name": 3}, {"name": ["must be a string"]}),
        (execute({"params": {}}), {"name": ["this field is required"]}),
        (execute({"name": "ship", "ids": {"a": 1}}),
         {"ids": ["must be a list of record ids or a comma-separated string"]}),
        (execute({"name": "refund", "id": [1]}),
         {"id": ["must be a record id (a number, a string, or a full key: an object of the "
                 "key columns' values)"]}),
        (execute({"name": "ship", "ids": [1], "inverseIds": "true"}),
         {"inverseIds": ["must be true or false (a JSON boolean)"]}),
        (execute({"name": "nope"}), {"name": ["unknown action 'nope'"]}),
    ],
)
def test_request_errors(client, body, expected):
    assert post(client, body) == (400, expected)


def test_malformed_json(client):
    response = client.post("/api/messages/", content=b'{"name": ', headers={
        **AUTH, "Content-Type": "application/json"})
    assert response.status_code == 400
    errors = response.json()["non_field_errors"]
    assert len(errors) == 1
    assert errors[0].startswith("Incorrect JSON body: ")


def test_invalid_parameters_are_per_field(client):
    status, body = post(client, execute({"model": "orders", "name": "refund", "id": 1,
                                         "params": {"amount": "ten", "unknown": 1}}))
    assert status == 400
    assert set(body) == {"amount", "unknown"}
    assert all(isinstance(m, str) for messages in body.values() for m in messages)


def test_missing_ids_are_named_and_nothing_runs(client, db_url):
    before = snapshot(db_url)
    status, body = post(client, execute({"model": "orders", "name": "ship", "ids": [1, 99],
                                         "params": {"carrier": "x"}}))
    assert status == 400
    assert "99" in json.dumps(body)
    assert snapshot(db_url) == before


def test_action_error_is_non_field_and_rolls_back(client, db_url):
    before = snapshot(db_url)
    assert post(client, execute({"model": "orders", "name": "refuse", "ids": [1, 2]})) == (
        400, {"non_field_errors": ["orders cannot be refused today"]})
    assert snapshot(db_url) == before


def test_unexpected_error_is_a_bare_500_and_rolls_back(client, db_url):
    before = snapshot(db_url)
    with server_logs() as logged:
        status, body = post(client, execute({"model": "orders", "name": "explode",
                                             "ids": [1, 2]}))
    assert (status, body) == (500, {"error": "internal server error",
                                    "error_code": "internal_error"})
    assert snapshot(db_url) == before
    assert len(logged) == 1
    assert logged[0].exc_info is not None  # the traceback goes to the log, not the body
    assert "hunter2" not in json.dumps(body)


def test_model_descriptions(client):
    response = client.get("/api/model_descriptions/", headers=AUTH)
    assert response.status_code == 200
    (orders,) = response.json()
    assert orders["model"] == "orders"
    assert orders["primary_key_field"] == "id"
    assert client.get("/api/model_descriptions/", headers=AUTH).content == response.content


def test_model_descriptions_are_revalidated_by_etag(client):
    response = client.get("/api/model_descriptions/", headers=AUTH)
    etag = response.headers["etag"]
    assert (response.headers["cache-control"], etag[0], etag[-1]) == ("no-cache", '"', '"')

    for if_none_match in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get("/api/model_descriptions/",
                           headers={**AUTH, "If-None-Match": if_none_match})
        assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    changed = client.get("/api/model_descriptions/", headers={**AUTH, "If-None-Match": '"x"'})
    assert (changed.status_code, changed.content) == (200, response.content)
    # a tag is no credential
    refused = client.get("/api/model_descriptions/", headers={"If-None-Match": etag})
    assert refused.status_code == 403


def test_get_is_not_allowed_on_messages(client):
    response = client.get("/api/messages/", headers=AUTH)
    assert response.status_code in (404, 405)
    assert response.json()["error_code"] == "method_not_allowed"
