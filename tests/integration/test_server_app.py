"""The app as a whole: OpenAPI, flexorm as a plugin in a user's app, message handlers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar import Litestar, Response, get
from litestar.config.app import AppConfig
from litestar.datastructures import ResponseHeader
from litestar.testing import TestClient, create_test_client

from flexorm import ActionContext
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
from flexorm.plugin import configure_app
from flexorm.server.errors import exception_handlers
from flexorm.server.messages import MessageContext
from tests.integration.server_app import AUTH, build_flex, create_schema, server_logs


def test_openapi_schema_builds(sqlite_url):
    create_schema(sqlite_url)
    with TestClient(build_flex(sqlite_url).app) as client:
        assert client.get("/schema/openapi.json").status_code == 403  # it lists every action
        response = client.get("/schema/openapi.json", headers=AUTH)
        assert response.status_code == 200
        paths = response.json()["paths"]
    assert "post" in paths["/api/messages/"]
    assert "get" in paths["/api/model_descriptions/"]
    assert "get" in paths["/health"]
    assert "post" in paths["/api/actions/orders/ship"]


def test_in_a_users_app_the_document_is_flexorms_own_path(sqlite_url):
    create_schema(sqlite_url)

    @get("/mine", sync_to_thread=False)
    def mine() -> dict[str, str]:
        return {"mine": "yes"}

    app = Litestar(route_handlers=[mine], plugins=[build_flex(sqlite_url)])
    with TestClient(app) as client:
        assert "/api/actions/orders/ship" in client.get("/api/openapi.json",
                                                        headers=AUTH).json()["paths"]
        # the app's own document is the app's business
        assert "/mine" in client.get("/schema/openapi.json").json()["paths"]


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


def test_an_action_reads_its_raw_request_body(sqlite_url):
    create_schema(sqlite_url)
    flex = build_flex(sqlite_url)

    @flex.action()
    async def echo(ctx: ActionContext) -> str:
        return (await ctx.request.body()).decode()

    body = {"name": "execute_action", "params": {"name": "echo", "params": {}}}
    with TestClient(flex.app) as client:
        response = client.post("/api/messages/", json=body, headers=AUTH)
    assert response.status_code == 200
    assert json.loads(response.json()["result"]) == body


def test_what_the_app_adds_to_responses_reaches_flexorm_answers(sqlite_url):
    create_schema(sqlite_url)
    flex = build_flex(sqlite_url)

    async def stamp(response: Response[Any]) -> Response[Any]:
        response.headers["X-Stamped"] = "yes"
        return response

    app = Litestar(plugins=[flex], after_request=stamp,
                   response_headers=[ResponseHeader(name="X-App", value="on")])
    with TestClient(app) as client:
        for message in ({"name": "get_action_list"},
                        {"name": "execute_action", "params": {"name": "ping"}}):
            response = client.post("/api/messages/", json=message, headers=AUTH)
            assert response.status_code == 200, response.text
            assert (response.headers["x-stamped"], response.headers["x-app"]) == ("yes", "on")


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
