"""Who may run an action, over HTTP: policies, the read-only floor, and per-caller action lists.

Callers are Jet Admin users (JWTs signed by a local key pair), a shared key, and a ``Token``
caller vouched for by a fake ``project_auth`` server.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from flexorm import ActionContext, Flex, Settings
from flexorm.actions.policies import any_of, authenticated, can_read, can_write, owner, users
from tests._fake_auth_server import PROJECT_TOKEN, running_fake_auth_server
from tests._jet_tokens import PROJECT, key_pair, model_permission
from tests.integration.server_app import AUTH, ORDERS, TOKEN, create_schema, execute, snapshot

LIST = {"name": "get_action_list"}


def _jwt_flex(url: str, **settings: Any) -> Flex:
    """A ``Flex`` accepting the shared key and Jet Admin's JWTs of the test project."""
    return Flex(url, settings=Settings.from_env().with_(
        tokens=(TOKEN,), jwt_public_key=key_pair().public_pem, project=PROJECT, **settings))


def _flex(url: str, **settings: Any) -> Flex:
    flex = _jwt_flex(url, **settings)

    @flex.action(model="orders", for_instance=True, allow=can_write)
    def refund(order: Any) -> None:
        order.status = "new"
        order.note = "refunded"

    @flex.action(model="orders", for_instance=True, bulk=True)
    def ship(orders: list[Any], ctx: ActionContext) -> int:
        for order in orders:
            order.status = "shipped"
            order.note = f"by {ctx.caller.user_id or ctx.caller.kind}"
        return len(orders)

    @flex.action(model="orders", writes=False, allow=can_read)
    async def report(ctx: ActionContext) -> int:
        result = await ctx.session.execute(sa.select(sa.func.count()).select_from(ORDERS))
        return int(result.scalar_one())

    @flex.action(allow=any_of(owner, users(42)))
    def rebuild_index() -> str:
        return "rebuilt"

    @flex.action(writes=False)
    def whoami(ctx: ActionContext) -> dict[str, Any]:
        caller = ctx.caller
        return {"kind": caller.kind, "user_id": caller.user_id, "read_only": caller.read_only,
                "owner": caller.owner, "permissions": len(caller.permissions)}

    async def from_production(ctx: ActionContext) -> bool:
        return ctx.caller.claims.get("environment") == "prod"

    @flex.action(model="orders", for_instance=True, allow=from_production)
    async def archive(order: Any) -> None:
        order.note = "archived"

    def broken(ctx: ActionContext) -> bool:
        raise RuntimeError("the policy has a bug")

    @flex.action(model="orders", for_instance=True, allow=broken)
    def fragile(order: Any) -> None:
        order.note = "fragile"

    @flex.action(model="orders", for_instance=True, writes=False, allow=authenticated)
    def inspect_order(order: Any) -> str:
        return str(order.status)

    return flex


ALL = ["refund", "ship", "report", "rebuild_index", "whoami", "archive", "fragile",
       "inspect_order"]


def _jwt(user: int = 7, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"JWT {key_pair().token(user=user, **claims)}"}


def _sign_with(extra: dict[str, Any], user: int = 7, **flags: Any) -> dict[str, str]:
    token = key_pair().sign({"user": user, "projects": {PROJECT: {"read_only": False, **flags}},
                             **extra})
    return {"Authorization": f"JWT {token}"}


WRITER = {"permissions": [model_permission("orders", "rw")]}
READER = {"permissions": [model_permission("orders", "r")]}


@pytest.fixture
def url(db_url: str) -> str:
    create_schema(db_url)
    return db_url


@pytest.fixture
def flex(url: str) -> Flex:
    return _flex(url)


def _names(client: TestClient[Any], headers: dict[str, str]) -> list[str]:
    response = client.post("/api/messages/", json=LIST, headers=headers)
    assert response.status_code == 200, response.text
    return [descriptor["name"] for descriptor in response.json()]


def _run(client: TestClient[Any], headers: dict[str, str], name: str, **params: Any) -> Any:
    body: dict[str, Any] = {"name": name, "params": {}}
    if name not in {"rebuild_index", "whoami"}:
        body["model"] = "orders"
    if name in {"refund", "ship", "archive", "fragile", "inspect_order"}:
        body["ids"] = [1]
    body.update(params)
    return client.post("/api/messages/", json=execute(body), headers=headers)


# -- the caller reaches the action -----------------------------------------------------------


def test_the_verified_caller_is_ctx_caller(client: TestClient[Any]) -> None:
    response = _run(client, _jwt(user=42, owner=True, **WRITER), "whoami")
    assert response.json() == {"result": {"kind": "jwt", "user_id": "42", "read_only": False,
                                          "owner": True, "permissions": 1}}
    assert _run(client, AUTH, "whoami").json()["result"]["kind"] == "key"


def test_a_writing_action_records_who_ran_it(client: TestClient[Any], url: str) -> None:
    assert _run(client, _jwt(user=9), "ship").json() == {"result": 1}
    assert snapshot(url)[0][1:4:2] == ("shipped", "by 9")


# -- read-only callers -----------------------------------------------------------------------


def test_read_only_user_is_refused_every_writing_action(client: TestClient[Any], url: str) -> None:
    before = snapshot(url)
    read_only = _jwt(user=42, read_only=True, owner=True, **WRITER)
    for name in ("refund", "ship", "rebuild_index", "archive"):
        response = _run(client, read_only, name)
        assert response.status_code == 403, name
        assert response.json() == {
            "error": f"you may not run the action {name!r}: your Jet Admin access is read-only",
            "error_code": "permission_denied",
        }
    assert snapshot(url) == before


def test_read_only_refusal_comes_before_validation(client: TestClient[Any]) -> None:
    response = _run(client, _jwt(read_only=True), "refund", ids=["not-an-id"])
    assert response.status_code == 403


def test_read_only_user_runs_actions_that_only_read(client: TestClient[Any]) -> None:
    read_only = _jwt(read_only=True)
    assert _run(client, read_only, "report").json() == {"result": 5}
    assert _run(client, read_only, "inspect_order").json() == {"result": "paid"}
    assert _run(client, read_only, "whoami").json()["result"]["read_only"] is True


def test_read_only_user_sees_only_actions_that_read(client: TestClient[Any]) -> None:
    assert _names(client, _jwt(read_only=True)) == ["report", "whoami", "inspect_order"]


def test_unclear_read_only_flag_counts_as_read_only(client: TestClient[Any]) -> None:
    assert _run(client, _sign_with({}, read_only="no"), "ship").status_code == 403


# -- policies --------------------------------------------------------------------------------


def test_can_write_follows_collection_permissions(client: TestClient[Any], url: str) -> None:
    before = snapshot(url)
    refused = _run(client, _jwt(**READER), "refund")
    assert refused.status_code == 403
    assert refused.json() == {"error": "you may not run the action 'refund'",
                              "error_code": "permission_denied"}
    assert snapshot(url) == before
    assert _run(client, _jwt(**WRITER), "refund").json() == {"result": True}
    assert snapshot(url)[0][3] == "refunded"


def test_without_a_policy_the_floor_is_read_only_alone(client: TestClient[Any]) -> None:
    # collection write permission is the can_write policy's business, not every action's
    assert _run(client, _jwt(**READER), "ship").json() == {"result": 1}


def test_people_policies(client: TestClient[Any]) -> None:
    assert _run(client, _jwt(user=42), "rebuild_index").json() == {"result": "rebuilt"}
    assert _run(client, _jwt(user=5, owner=True), "rebuild_index").json() == {"result": "rebuilt"}
    assert _run(client, _jwt(user=5), "rebuild_index").status_code == 403
    # a shared key is a machine, not user 42
    assert _run(client, AUTH, "rebuild_index").status_code == 403


def test_async_policy_reading_claims(client: TestClient[Any], url: str) -> None:
    assert _run(client, _sign_with({"environment": "staging"}), "archive").status_code == 403
    assert snapshot(url)[0][3] is None
    assert _run(client, _sign_with({"environment": "prod"}), "archive").json() == {
        "result": True}
    assert snapshot(url)[0][3] == "archived"


def test_a_policy_that_raises_refuses_and_is_logged_once(client: TestClient[Any],
                                                         url: str) -> None:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("flexorm.actions")
    logger.addHandler(handler)
    try:
        for _ in range(2):
            response = _run(client, AUTH, "fragile")
            assert response.status_code == 403
            assert response.json()["error_code"] == "permission_denied"
        assert "fragile" not in _names(client, AUTH)
    finally:
        logger.removeHandler(handler)
    assert snapshot(url)[0][3] is None
    assert len([r for r in records if "fragile" in r.getMessage()]) == 1


# -- action lists ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("key", ["refund", "ship", "report", "whoami", "inspect_order"]),
        ("owner", ["refund", "ship", "report", "rebuild_index", "whoami", "inspect_order"]),
        ("user 42, prod", ["ship", "rebuild_index", "whoami", "archive", "inspect_order"]),
        ("reader", ["ship", "report", "whoami", "inspect_order"]),
        ("writer", ["refund", "ship", "report", "whoami", "inspect_order"]),
    ],
)
def test_each_caller_sees_the_actions_it_may_run(client: TestClient[Any], who: str,
                                                 expected: list[str]) -> None:
    headers = {
        "key": AUTH,
        "owner": _jwt(owner=True),
        "user 42, prod": _sign_with({"environment": "prod"}, user=42),
        "reader": _jwt(**READER),
        "writer": _jwt(**WRITER),
    }[who]
    assert _names(client, headers) == expected
    for name in ALL:
        allowed = _run(client, headers, name).status_code == 200
        assert allowed == (name in expected), name


def test_field_options_of_an_action_the_caller_may_not_run(url: str) -> None:
    flex = _jwt_flex(url)

    @flex.action(model="orders", allow=owner, options={"carrier": lambda q, f: ["dhl", "ups"]})
    def pick(carrier: str) -> None:
        return None

    body = {"name": "get_field_options",
            "params": {"action": "pick", "model": "orders", "field": "carrier"}}
    with TestClient(flex.app) as client:
        refused = client.post("/api/messages/", json=body, headers=_jwt())
        allowed = client.post("/api/messages/", json=body, headers=_jwt(owner=True))
    assert refused.status_code == 403
    assert allowed.json() == [{"value": "dhl", "name": "dhl"}, {"value": "ups", "name": "ups"}]


def test_token_callers_pass_authenticated_only(url: str) -> None:
    with running_fake_auth_server() as fake:
        flex = _flex(url, project_token=PROJECT_TOKEN, auth_url=fake.base_url)
        with TestClient(flex.app) as client:
            headers = {"Authorization": "Token good-1"}
            assert _names(client, headers) == ["ship", "whoami", "inspect_order"]
            assert _run(client, headers, "whoami").json()["result"]["kind"] == "token"
            assert _run(client, headers, "refund").status_code == 403


def test_without_policies_lists_are_the_prepared_ones(url: str) -> None:
    flex = _jwt_flex(url)

    @flex.action(model="orders", for_instance=True)
    def cancel(order: Any) -> None:
        order.status = "new"

    @flex.action(model="orders", writes=False)
    def total() -> int:
        return 0

    with TestClient(flex.app) as client:
        full = client.post("/api/messages/", json=LIST, headers=AUTH).content
        assert client.post("/api/messages/", json=LIST, headers=_jwt()).content == full
        assert [d["name"] for d in client.post("/api/messages/", json=LIST,
                                               headers=_jwt(read_only=True)).json()] == ["total"]
