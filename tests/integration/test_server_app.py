"""The app as a whole: OpenAPI, flexorm as a plugin in a user's app, message handlers."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar, get
from litestar.config.app import AppConfig
from litestar.testing import TestClient, create_test_client

from flexorm.exceptions import (
    ActionError,
    DatabaseError,
    NotAuthenticated,
    PermissionDenied,
    RequestError,
    UnknownActionError,
    UnknownCollectionError,
    ValidationError,
)
from flexorm.server.errors import exception_handlers
from flexorm.server.messages import MessageContext
from flexorm.server.plugin import configure_app
from tests.integration.server_app import AUTH, build_flex, create_schema, server_logs


def test_openapi_schema_builds(sqlite_url):
    create_schema(sqlite_url)
    with TestClient(build_flex(sqlite_url).app) as client:
        response = client.get("/schema/openapi.json")
        assert response.status_code == 200
        paths = response.json()["paths"]
    assert "post" in paths["/api/messages"]
    assert "get" in paths["/api/model_descriptions"]
    assert "get" in paths["/health"]


def test_health_before_startup_is_503(sqlite_url):
    create_schema(sqlite_url)
    client = TestClient(build_flex(sqlite_url).app)  # not entered: no lifespan
    response = client.get("/health")
    assert (response.status_code, response.json()) == (503, {"status": "starting"})
    assert client.post("/api/messages/", json={"name": "get_action_list"},
                       headers=AUTH).status_code == 503


def test_plugin_in_a_users_app_leaves_the_rest_alone(sqlite_url):
    create_schema(sqlite_url)
    flex = build_flex(sqlite_url)

    @get("/mine", sync_to_thread=False)
    def mine() -> dict[str, str]:
        return {"mine": "yes"}

    app = Litestar(route_handlers=[mine], plugins=[flex])
    with TestClient(app) as client:
        own = client.get("/mine")
        assert own.json() == {"mine": "yes"}
        assert "access-control-allow-origin" not in own.headers
        missing = client.get("/nope")
        assert missing.status_code == 404
        assert "error_code" not in missing.json()  # the user's app keeps Litestar's shape
        ours = client.post("/api/messages/", json={"name": "get_action_list"}, headers=AUTH)
        assert ours.status_code == 200
        assert ours.headers["access-control-allow-origin"] == "*"


def test_a_registered_handler_answers_its_message(sqlite_url):
    create_schema(sqlite_url)
    flex = build_flex(sqlite_url)
    seen: list[Any] = []

    async def element_status(ctx: MessageContext) -> dict[str, Any]:
        seen.append((ctx.caller.kind, dict(ctx.message.params)))
        return {"status": "green"}

    config = configure_app(flex.host, AppConfig(), handlers={"get_element_status": element_status})
    with TestClient(Litestar.from_config(config)) as client:
        response = client.post("/api/messages/", json={"name": "get_element_status",
                                                       "params": {"id": 1}}, headers=AUTH)
    assert (response.status_code, response.json()) == (200, {"status": "green"})
    assert seen == [("key", {"id": 1})]


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (RequestError("bad", field="ids"), 400, {"ids": ["bad"]}),
        (RequestError("bad"), 400, {"non_field_errors": ["bad"]}),
        (UnknownActionError("unknown action 'x'", field="name"), 400,
         {"name": ["unknown action 'x'"]}),
        (ValidationError({"amount": ["too big", "not round"]}), 400,
         {"amount": ["too big", "not round"]}),
        (ActionError("no stock"), 400, {"non_field_errors": ["no stock"]}),
        (UnknownCollectionError("Orders", ["orders"]), 400,
         {"model": ["unknown collection 'Orders' (did you mean 'orders'?)"]}),
        (PermissionDenied("read-only user"), 403,
         {"error": "read-only user", "error_code": "permission_denied"}),
        (NotAuthenticated("invalid key"), 403,
         {"error": "invalid key", "error_code": "not_authenticated"}),
        (DatabaseError("database is down"), 500,
         {"error": "database is down", "error_code": "database_error"}),
        (KeyError("secret"), 500, {"error": "internal server error",
                                   "error_code": "internal_error"}),
    ],
)
def test_error_shapes(error, status, body):
    @get("/fail", sync_to_thread=False)
    def fail() -> None:
        raise error

    with server_logs() as logged, create_test_client(
        route_handlers=[fail], exception_handlers=exception_handlers()
    ) as client:
        response = client.get("/fail")
    assert (response.status_code, response.json()) == (status, body)
    assert "Traceback" not in response.text
    assert bool(logged) == (status == 500)  # unexpected failures are logged, others are not
