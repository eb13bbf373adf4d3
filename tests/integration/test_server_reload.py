"""``reload_schema``: a running server takes a changed schema without a restart."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from flexorm import Flex
from tests._jet_tokens import PROJECT, key_pair
from tests.conftest import sync_engine
from tests.integration.server_app import AUTH, build_flex, create_schema

RELOAD = {"name": "reload_schema"}


@pytest.fixture
def flex(db_url: str) -> Flex:
    create_schema(db_url)
    return build_flex(db_url, changes={"jwt_public_key": key_pair().public_pem,
                                       "project": PROJECT})


def _order_fields(client: TestClient[Any]) -> list[str]:
    response = client.get("/api/model_descriptions/", headers=AUTH)
    assert response.status_code == 200, response.text
    (orders,) = [d for d in response.json() if d["model"] == "orders"]
    return [field["name"] for field in orders["fields"]]


def _add_column(url: str) -> None:
    engine = sync_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE orders ADD COLUMN carrier VARCHAR(40)"))
    engine.dispose()


def test_a_new_column_is_served_after_a_reload(client: TestClient[Any], db_url: str) -> None:
    assert "carrier" not in _order_fields(client)  # also caches the descriptions
    etag = client.get("/api/model_descriptions/", headers=AUTH).headers["etag"]
    _add_column(db_url)
    assert "carrier" not in _order_fields(client)  # not yet: the running schema is kept

    response = client.post("/api/messages/", json=RELOAD, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json() == {"reloaded": True, "collections": 1}
    assert "carrier" in _order_fields(client)
    # a client holding the old descriptions gets the new ones, not 304
    revalidated = client.get("/api/model_descriptions/", headers={**AUTH, "If-None-Match": etag})
    assert revalidated.status_code == 200
    assert revalidated.headers["etag"] != etag


def test_an_unchanged_schema_is_not_reloaded(client: TestClient[Any]) -> None:
    before = client.get("/api/model_descriptions/", headers=AUTH).content
    response = client.post("/api/messages/", json=RELOAD, headers=AUTH)
    assert response.json() == {"reloaded": False, "collections": 1}
    assert client.get("/api/model_descriptions/", headers=AUTH).content == before


def test_actions_run_on_the_reloaded_schema(client: TestClient[Any], db_url: str) -> None:
    _add_column(db_url)
    assert client.post("/api/messages/", json=RELOAD, headers=AUTH).json()["reloaded"]
    listed = client.post("/api/messages/", json={"name": "get_action_list"}, headers=AUTH)
    assert "ship" in {action["name"] for action in listed.json()}
    shipped = client.post("/api/messages/", headers=AUTH, json={
        "name": "execute_action",
        "params": {"name": "ship", "model": "orders", "ids": [1], "params": {"carrier": "x"}}})
    assert shipped.status_code == 200, shipped.text


@pytest.mark.parametrize(("flags", "status"), [
    ({"owner": True}, 200),
    ({}, 403),
    ({"super_group": True}, 403),
])
def test_only_owners_among_jet_users_may_reload(client: TestClient[Any], flags: dict[str, Any],
                                                status: int) -> None:
    header = f"JWT {key_pair().token(**flags)}"
    response = client.post("/api/messages/", json=RELOAD, headers={"Authorization": header})
    assert response.status_code == status, response.text
    if status == 403:
        assert response.json()["error_code"] == "permission_denied"


def test_reload_needs_credentials(client: TestClient[Any]) -> None:
    response = client.post("/api/messages/", json=RELOAD)
    assert response.status_code == 403
    assert response.json()["error_code"] == "not_authenticated"
