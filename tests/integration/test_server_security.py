"""Auth, CORS and hostile input over HTTP: nothing a client sends writes anything or leaks."""

from __future__ import annotations

import json
import logging

import pytest
from litestar.testing import TestClient

from flexorm.exceptions import ConfigurationError
from flexorm.protocol.headers import ALLOW_HEADERS, ALLOW_METHODS, EXPOSE_HEADERS
from tests.integration.server_app import (
    AUTH,
    TOKEN,
    build_flex,
    create_schema,
    execute,
    server_logs,
    snapshot,
)

LIST = {"name": "get_action_list"}


# -- auth ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer wrong-key",
        f"Bearer {TOKEN}x",
        f"bearer {TOKEN}",  # type names are case-sensitive
        "Basic dXNlcjpwYXNz",
        f"Token {TOKEN}",
        f"Bearer {TOKEN}, JWT a.b.c",  # a JWT wins, and is not accepted yet
        "",
    ],
)
def test_refused_credentials_are_403_without_the_secret(sqlite_client, header):
    headers = {} if header is None else {"Authorization": header}
    for response in (
        sqlite_client.post("/api/messages/", json=LIST, headers=headers),
        sqlite_client.get("/api/model_descriptions/", headers=headers),
    ):
        assert response.status_code == 403
        body = response.json()
        assert body["error_code"] == "not_authenticated"
        assert TOKEN not in response.text


def test_right_key(sqlite_client):
    assert sqlite_client.post("/api/messages/", json=LIST, headers=AUTH).status_code == 200


def test_second_of_several_keys(sqlite_url):
    create_schema(sqlite_url)
    flex = build_flex(sqlite_url, changes={"tokens": ("one", "two")})
    with TestClient(flex.app) as client:
        response = client.post("/api/messages/", json=LIST,
                               headers={"Authorization": "Bearer two"})
        assert response.status_code == 200


def test_refused_request_runs_nothing(client, db_url):
    before = snapshot(db_url)
    response = client.post("/api/messages/", json=execute(
        {"model": "orders", "name": "ship", "ids": [1], "params": {"carrier": "x"}}),
        headers={"Authorization": "Bearer nope"})
    assert response.status_code == 403
    assert snapshot(db_url) == before


def test_health_needs_no_auth(sqlite_client):
    response = sqlite_client.get("/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_no_token_refuses_to_start(sqlite_url):
    create_schema(sqlite_url)
    flex = build_flex(sqlite_url, changes={"tokens": ()})
    with pytest.raises(BaseExceptionGroup) as info, TestClient(flex.app):
        pass
    assert info.group_contains(ConfigurationError,
                               match=r"--token KEY .*FLEXORM_TOKEN.*--insecure")


def test_insecure_serves_anyone_and_warns(sqlite_url):
    create_schema(sqlite_url)
    flex = build_flex(sqlite_url, insecure=True, changes={"tokens": ()})
    with server_logs() as records, TestClient(flex.app) as client:
        assert client.post("/api/messages/", json=LIST).status_code == 200
    warnings = [r for r in records if r.levelno == logging.WARNING]
    assert any("WITHOUT AUTHORIZATION" in r.getMessage() for r in warnings)


# -- CORS -------------------------------------------------------------------------------------


def _assert_cors(response, origin="*"):
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-allow-methods"] == ALLOW_METHODS
    assert response.headers["access-control-allow-headers"] == ALLOW_HEADERS
    assert response.headers["access-control-expose-headers"] == EXPOSE_HEADERS
    assert response.headers["access-control-allow-credentials"] == "true"
    allowed = ALLOW_HEADERS.split(", ")
    # every header the reference bridge allows, and those flexorm reads
    for header in ("Authorization", "DNT", "User-Agent", "X-Requested-With", "If-Modified-Since",
                   "Cache-Control", "Content-Type", "Range", "X-Application-Warning",
                   "X-HTTP-Method-Override", "X-Bridge-Settings", "X-Stick-Session",
                   "Idempotency-Key", "X-Request-ID", "If-None-Match"):
        assert header in allowed


@pytest.mark.parametrize("path", ["/api/messages/", "/api/messages",
                                  "/api/model_descriptions/", "/health", "/mcp"])
def test_options_is_204_with_cors_and_no_auth(sqlite_client, path):
    response = sqlite_client.options(path, headers={"Origin": "https://app.jetadmin.io",
                                                    "Access-Control-Request-Method": "POST"})
    assert response.status_code == 204
    _assert_cors(response)


def test_every_response_carries_cors(sqlite_client):
    responses = [
        sqlite_client.post("/api/messages/", json=LIST, headers=AUTH),  # 200
        sqlite_client.post("/api/messages/", json={}, headers=AUTH),  # 400
        sqlite_client.post("/api/messages/", json=LIST),  # 403
        sqlite_client.get("/api/messages/", headers=AUTH),  # 405
        sqlite_client.get("/no/such/path"),  # 404
        sqlite_client.post("/api/messages/", json=execute(
            {"model": "orders", "name": "explode", "ids": [1]}), headers=AUTH),  # 500
    ]
    assert [r.status_code for r in responses] == [200, 400, 403, 405, 404, 500]
    for response in responses:
        _assert_cors(response)


def test_allow_origin_is_configurable(sqlite_url):
    create_schema(sqlite_url)
    flex = build_flex(sqlite_url, changes={"cors_allow_origin": "https://app.jetadmin.io"})
    with TestClient(flex.app) as client:
        _assert_cors(client.post("/api/messages/", json=LIST, headers=AUTH),
                     "https://app.jetadmin.io")


# -- hostile input ------------------------------------------------------------------------------


def _post_raw(client, body: bytes, content_type="application/json"):
    return client.post("/api/messages/", content=body,
                       headers={**AUTH, "Content-Type": content_type})


@pytest.mark.parametrize(
    "params",
    [
        {"model": "orders", "name": "ship", "ids": ["1; DROP TABLE orders"],
         "params": {"carrier": "x"}},
        {"model": "orders", "name": "ship", "ids": "1 OR 1=1", "params": {"carrier": "x"}},
        {"model": "orders", "name": "ship", "ids": ["1' OR '1'='1"], "params": {"carrier": "x"}},
        {"model": "orders; DROP TABLE orders", "name": "ship", "ids": [1],
         "params": {"carrier": "x"}},
        {"model": "orders", "name": "ship\"; DELETE FROM orders; --", "ids": [1]},
        {"model": "orders", "name": "refund", "id": 1,
         "params": {"amount": "1); DELETE FROM orders; --"}},
        {"model": "orders", "name": "refund", "id": 1, "params": {"amount": "1e999999"}},
        {"model": "orders", "name": "refund", "id": 1, "params": {"amount": "NaN"}},
        {"model": "orders", "name": "ship", "ids": [10**30], "params": {"carrier": "x"}},
        {"model": "orders", "name": "ship", "ids": [1], "params": {"carrier": "x\u0000y"}},
        {"model": "orders", "name": "ship", "ids": [1], "params": {"carrier": ["x"] * 10}},
        {"model": "orders", "name": "ship", "ids": [1], "params": {"carrier": {"$gt": ""}}},
        {"model": "orders", "name": "ship", "ids": [1],
         "params": {"carrier": "x", "__class__": "y"}},
    ],
)
def test_hostile_values_are_4xx_and_write_nothing(client, db_url, params):
    before = snapshot(db_url)
    response = client.post("/api/messages/", json=execute(params), headers=AUTH)
    assert 400 <= response.status_code < 500, response.text
    assert "Traceback" not in response.text
    assert snapshot(db_url) == before


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"name": "execute_action", "params": {"name": "ship", "ids": [1], "params": '
         b'{"carrier": "\xff\xfe"}}}', "application/json"),
        (b"\x00\x00\x00", "application/json"),
        (b'{"name": "execute_action\\u0000"}', "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b'{"name": "execute_action", "params": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001,
         "application/json"),
        (b"name=execute_action&params=%FF%FE", "application/x-www-form-urlencoded"),
        (b"name=execute_action&params=" + b"%5B" * 10_000, "application/x-www-form-urlencoded"),
        (b"\x1f\x8b\x08\x00garbage", "application/json"),
    ],
)
def test_hostile_bodies_are_400(client, db_url, body, content_type):
    before = snapshot(db_url)
    response = _post_raw(client, body, content_type)
    assert response.status_code == 400, response.text
    assert "Traceback" not in response.text
    assert snapshot(db_url) == before


def test_huge_body_is_413(sqlite_client, sqlite_url):
    before = snapshot(sqlite_url)
    ids = json.dumps(list(range(1_000_000))).encode()
    body = b'{"name": "execute_action", "params": {"model": "orders", "name": "ship", "ids": ' + (
        ids + b', "params": {"carrier": "x"}}}')
    response = _post_raw(sqlite_client, body)
    assert response.status_code == 413
    assert response.json()["error_code"] == "request_entity_too_large"
    assert snapshot(sqlite_url) == before


def test_huge_string_parameter_is_refused_or_stored_whole(client, db_url):
    # A 1 MiB carrier fits under the body limit: it must be written whole or refused, never cut.
    carrier = "x" * (1024 * 1024)
    response = client.post("/api/messages/", json=execute(
        {"model": "orders", "name": "ship", "ids": [1], "params": {"carrier": carrier}}),
        headers=AUTH)
    assert response.status_code in (200, 400)
    note = snapshot(db_url)[0][3]
    assert note == (carrier if response.status_code == 200 else None)
