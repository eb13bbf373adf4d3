"""Every credential form over HTTP: only valid ones reach an action, none causes a 5xx.

A locally generated RSA key pair stands in for Jet Admin's, and a local fake ``project_auth``
server for Jet Admin's API. Each refused request is checked to have written nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import jwt as pyjwt
import pytest
from litestar.testing import TestClient

from flexorm import ActionContext, Flex
from flexorm.exceptions import ConfigurationError
from tests._fake_auth_server import (
    PROJECT_TOKEN,
    FakeAuthServer,
    closed_port_url,
    running_fake_auth_server,
)
from tests._jet_tokens import PROJECT, key_pair
from tests.integration.server_app import TOKEN, build_flex, create_schema, execute, snapshot

MARK = execute({"model": "orders", "name": "mark", "id": 1, "params": {}})
"""Writes the caller onto order 1 and answers who the caller was."""


def _flex(url: str, **settings: Any) -> Flex:
    flex = build_flex(url, changes=settings)

    @flex.action(model="orders", for_instance=True)
    def mark(order: Any, ctx: ActionContext) -> dict[str, Any]:
        caller = ctx.caller
        order.note = f"{caller.kind}:{caller.user_id}:{caller.key_name}"
        return {"kind": caller.kind, "user_id": caller.user_id, "project": caller.project,
                "key_name": caller.key_name, "read_only": caller.read_only,
                "owner": caller.owner}

    return flex


def _jwt_settings(**extra: Any) -> dict[str, Any]:
    return {"jwt_public_key": key_pair().public_pem, "project": PROJECT, **extra}


@pytest.fixture
def url(db_url: str) -> str:
    create_schema(db_url)
    return db_url


@pytest.fixture
def flex(url: str) -> Flex:
    return _flex(url, **_jwt_settings())


def _post(client: TestClient[Any], header: str | None, body: dict[str, Any] = MARK) -> Any:
    headers = {} if header is None else {"Authorization": header.encode()}
    return client.post("/api/messages/", json=body, headers=headers)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"


def _payload(**entry: Any) -> dict[str, Any]:
    return {"user": 42, "exp": int(time.time()) + 300,
            "projects": {PROJECT: {"read_only": False, **entry}}}


def _hs256_with_public_key() -> str:
    # the classic confusion attack: HMAC keyed with the (public) PEM text
    signing_input = _unsigned({"alg": "HS256", "typ": "JWT"}, _payload(owner=True))
    mac = hmac.new(key_pair().public_pem.encode(), signing_input.encode(), hashlib.sha256)
    return f"{signing_input}.{_b64(mac.digest())}"


def _refused_jwts() -> dict[str, str]:
    jet = key_pair()
    return {
        "expired": jet.token(expires_in=-3600),
        "wrong key": key_pair("someone-else").token(),
        "HS256 keyed with the public key": _hs256_with_public_key(),
        "alg none": _unsigned({"alg": "none", "typ": "JWT"}, _payload(owner=True)) + ".",
        "RS256 header, no signature": _unsigned({"alg": "RS256"}, _payload()) + ".",
        "other project": jet.token(project="another-shop"),
        "no projects claim": jet.sign({"user": 42, "exp": int(time.time()) + 300}),
        "project is not an object": jet.sign({"user": 1, "projects": {PROJECT: True}}),
        "bad permissions": jet.sign({"user": 1, "projects": {PROJECT: {"permissions": "!!"}}}),
        "exp not a number": jet.sign({**_payload(), "exp": "tomorrow"}),
        "infinite exp": jet.sign({**_payload(), "exp": float("inf")}),
        "malformed": "a.b.c",
        "not a jwt": "hello",
        "non-ascii": "ключ.ключ.ключ",
        "too long": "x" * 70_000,
    }


# -- JWT ---------------------------------------------------------------------------------------


def test_valid_jwt_runs_the_action_as_that_user(client: TestClient[Any], url: str) -> None:
    response = _post(client, f"JWT {key_pair().token(user=42)}")
    assert response.status_code == 200, response.text
    assert response.json() == {"result": {"kind": "jwt", "user_id": "42", "project": PROJECT,
                                          "key_name": None, "read_only": False,
                                          "owner": False}}
    assert snapshot(url)[0][3] == "jwt:42:None"


@pytest.mark.parametrize("name", list(_refused_jwts()))
def test_refused_jwts_are_403_and_write_nothing(client: TestClient[Any], url: str,
                                                name: str) -> None:
    token = _refused_jwts()[name]
    before = snapshot(url)
    response = _post(client, f"JWT {token}")
    assert response.status_code == 403, response.text
    assert response.json()["error_code"] == "not_authenticated"
    assert token[:40] not in response.text
    assert snapshot(url) == before


def test_refusal_reasons_are_specific(client: TestClient[Any]) -> None:
    refused = _refused_jwts()
    assert _post(client, f"JWT {refused['expired']}").json()["error"] == "the JWT has expired"
    assert _post(client, f"JWT {refused['other project']}").json()["error"] == (
        "the JWT does not grant access to project 'shop'")
    assert _post(client, f"JWT {refused['wrong key']}").json()["error"] == (
        "the JWT is not signed by the configured public key")


def test_jwt_refused_when_no_public_key_is_configured(url: str) -> None:
    with TestClient(_flex(url).app) as client:
        response = _post(client, f"JWT {key_pair().token()}")
    assert response.status_code == 403
    assert response.json()["error"] == (
        "JWT authorization type is not accepted: send Authorization: Bearer <key>")


# -- several credentials in one header -------------------------------------------------------


def test_jwt_wins_over_a_wrong_bearer_in_front(client: TestClient[Any]) -> None:
    response = _post(client, f"Bearer wrong, JWT {key_pair().token(user=7)}")
    assert response.status_code == 200
    assert response.json()["result"]["user_id"] == "7"


def test_an_invalid_jwt_wins_over_a_valid_bearer(client: TestClient[Any], url: str) -> None:
    before = snapshot(url)
    response = _post(client, f"Bearer {TOKEN}, JWT {key_pair().token(expires_in=-60)}")
    assert response.status_code == 403
    assert snapshot(url) == before


def test_without_jwt_the_first_credential_counts(client: TestClient[Any]) -> None:
    assert _post(client, f"Bearer {TOKEN}, Token x").json()["result"]["key_name"] == "key-1"
    # type names are case-sensitive: "jwt" is not a JWT and does not win
    response = _post(client, f"Bearer {TOKEN}, jwt {key_pair().token()}")
    assert response.json()["result"]["kind"] == "key"
    assert _post(client, f"Token x, Bearer {TOKEN}").status_code == 403


def test_a_jwt_with_parameters(client: TestClient[Any]) -> None:
    response = _post(client, f"JWT {key_pair().token(user=5)};project={PROJECT}")
    assert response.json()["result"]["user_id"] == "5"


# -- configuration ---------------------------------------------------------------------------


def test_jwt_only_server(url: str) -> None:
    flex = _flex(url, tokens=(), **_jwt_settings())
    with TestClient(flex.app) as client:
        assert _post(client, f"JWT {key_pair().token()}").status_code == 200
        response = _post(client, f"Bearer {TOKEN}")
    assert response.status_code == 403
    assert response.json()["error"] == (
        "Bearer authorization type is not accepted: send Authorization: JWT <token>")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"tokens": (), "project": PROJECT,
          "jwt_public_key": "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----"},
         "not a PEM public key"),
        ({"jwt_public_key": "/no/such/key.pem", "project": PROJECT}, "neither PEM text"),
        ({"jwt_public_key": "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----",
          "project": PROJECT}, "holds a private key"),
        ({"tokens": ()}, "no token configured"),
    ],
)
def test_bad_auth_settings_stop_the_server(sqlite_url: str, settings: dict[str, Any],
                                           message: str) -> None:
    create_schema(sqlite_url)
    with pytest.raises(BaseExceptionGroup) as info, TestClient(_flex(sqlite_url, **settings).app):
        pass
    assert info.group_contains(ConfigurationError, match=message)


def test_public_key_without_project_stops_the_server(sqlite_url: str) -> None:
    create_schema(sqlite_url)
    flex = _flex(sqlite_url, jwt_public_key=key_pair().public_pem)
    with pytest.raises(BaseExceptionGroup) as info, TestClient(flex.app):
        pass
    assert info.group_contains(ConfigurationError, match="needs the Jet Admin project name")


def test_public_key_from_a_file(url: str, tmp_path: Any) -> None:
    path = tmp_path / "jet_admin.pem"
    path.write_text(key_pair().public_pem)
    with TestClient(_flex(url, jwt_public_key=str(path), project=PROJECT).app) as client:
        assert _post(client, f"JWT {key_pair().token()}").status_code == 200


# -- Token / ProjectToken ----------------------------------------------------------------------


@pytest.fixture
def auth_server() -> Iterator[FakeAuthServer]:
    with running_fake_auth_server() as fake:
        yield fake


def _token_flex(url: str, auth_url: str, **settings: Any) -> Flex:
    options = {"project": PROJECT, "project_token": PROJECT_TOKEN, "auth_url": auth_url,
               "auth_timeout": 10.0, **settings}
    return _flex(url, **options)


def test_token_and_project_token_run_as_token_callers(url: str,
                                                      auth_server: FakeAuthServer) -> None:
    with TestClient(_token_flex(url, auth_server.base_url).app) as client:
        for kind in ("Token", "ProjectToken"):
            response = _post(client, f"{kind} good-{kind}")
            assert response.status_code == 200, response.text
            assert response.json()["result"]["kind"] == "token"
        # answers are cached: a page of requests costs one call
        _post(client, "Token good-Token")
    assert auth_server.count("good-Token") == 1
    assert auth_server.count("good-ProjectToken") == 1


def test_project_child_is_passed_to_project_auth(url: str,
                                                 auth_server: FakeAuthServer) -> None:
    with TestClient(_token_flex(url, auth_server.base_url).app) as client:
        assert _post(client, "Token good-child;project_child=branch-7").status_code == 200
    assert auth_server.calls[-1] == {"path": "/api/project_auth/", "project_token": PROJECT_TOKEN,
                                     "token": "good-child", "project_child": "branch-7"}


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("refused-1", "Jet Admin refused the token"),
        ("disabled-1", "access to this Jet Admin project is disabled"),
        ("broken-1", "the Jet Admin auth server failed"),
        ("notjson-1", "the Jet Admin auth server failed"),
        ("slow-1", "the Jet Admin auth server did not answer"),
    ],
)
def test_refused_tokens_are_403_and_write_nothing(url: str, auth_server: FakeAuthServer,
                                                  token: str, reason: str) -> None:
    before = snapshot(url)
    wait = 0.5 if token.startswith("slow") else 10.0  # a slow server is given up on
    with TestClient(_token_flex(url, auth_server.base_url, auth_timeout=wait).app) as client:
        response = _post(client, f"Token {token}")
    assert response.status_code == 403
    assert response.json() == {"error": reason, "error_code": "not_authenticated"}
    assert snapshot(url) == before


def test_auth_server_down_is_403(url: str) -> None:
    before = snapshot(url)
    with TestClient(_token_flex(url, closed_port_url()).app) as client:
        response = _post(client, "ProjectToken good-but-nobody-answers")
    assert response.status_code == 403
    assert response.json()["error"] == "the Jet Admin auth server did not answer"
    assert snapshot(url) == before


def test_token_refused_when_no_project_token_is_configured(client: TestClient[Any]) -> None:
    response = _post(client, "Token good-1")
    assert response.status_code == 403
    assert response.json()["error"] == ("Token authorization type is not accepted: send "
                                        "Authorization: Bearer <key> or JWT <token>")


# -- secrets ---------------------------------------------------------------------------------


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_secrets_never_reach_logs_or_answers(sqlite_url: str) -> None:
    create_schema(sqlite_url)
    handler = _Records()
    logger = logging.getLogger("flexorm")
    logger.addHandler(handler)
    secrets = {"expired-jwt": key_pair().token(expires_in=-60), "bearer": TOKEN + "-nope",
               "token": "refused-secret-value", "down": "good-secret-value"}
    flex = _token_flex(sqlite_url, closed_port_url(), **_jwt_settings())
    try:
        with TestClient(flex.app) as client:
            answers = [
                _post(client, f"JWT {secrets['expired-jwt']}").text,
                _post(client, f"Bearer {secrets['bearer']}").text,
                _post(client, f"{secrets['token']} x").text,
                _post(client, f"Token {secrets['down']}").text,
            ]
    finally:
        logger.removeHandler(handler)
    assert any("did not answer" in line for line in handler.lines)
    text = "\n".join(answers + handler.lines + [repr(flex.settings)])
    for secret in [*secrets.values(), TOKEN, PROJECT_TOKEN, key_pair().public_pem[30:80]]:
        assert secret not in text


def test_expired_token_is_checked_against_the_clock(client: TestClient[Any]) -> None:
    # inside the 10 s leeway a just-expired token still counts; well past it, it does not
    assert _post(client, f"JWT {key_pair().token(expires_in=-2)}").status_code == 200
    assert _post(client, f"JWT {key_pair().token(expires_in=-60)}").status_code == 403


def test_hs256_token_is_refused_even_when_pyjwt_would_sign_it(client: TestClient[Any]) -> None:
    token = pyjwt.encode(_payload(owner=True), "a-shared-secret-of-at-least-32-bytes",
                         algorithm="HS256")
    response = _post(client, f"JWT {token}")
    assert response.status_code == 403
    assert response.json()["error"] == "the JWT is not signed with RS256"
