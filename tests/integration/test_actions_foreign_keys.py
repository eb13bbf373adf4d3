"""Parameters bound to columns, on SQLite, PostgreSQL and MariaDB. One bound to a foreign key
column (``flex.column("pets.owner_code")``) is checked before the body runs: the referenced row
must exist and the value must fit the column; either failure is that field's error and nothing
is written. A CHECK of equalities joined by OR gives select options."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from flexorm import Flex, Settings
from tests.conftest import run_statements, sync_engine

TOKEN = "foreign-keys-key"


@pytest.fixture
def http(any_url: str) -> Iterator[tuple[TestClient[Any], str]]:
    run_statements(any_url, [
        "CREATE TABLE owners (code VARCHAR(4) PRIMARY KEY, name VARCHAR(20) NOT NULL)",
        "CREATE TABLE pets (id INTEGER PRIMARY KEY, owner_code VARCHAR(4) NOT NULL "
        "REFERENCES owners (code))",
        "INSERT INTO owners VALUES ('ANNA', 'Anna')", "INSERT INTO owners VALUES ('BOB', 'Bob')",
        "INSERT INTO pets VALUES (1, 'ANNA')",
    ])
    flex = Flex(any_url, settings=Settings(tokens=(TOKEN,), journal=False))

    @flex.action(model="pets", for_instance=True)
    def rehome(pet: Any, owner: Annotated[str, flex.column("pets.owner_code")]) -> str:
        pet.owner_code = owner
        return owner

    @flex.action(model="pets", for_instance=True, bulk=True, fields=["owner_code"])
    def rehome_all(pets: list[Any], owner_code: str) -> int:
        for pet in pets:
            pet.owner_code = owner_code
        return len(pets)

    with TestClient(flex.app, raise_server_exceptions=False) as client:
        yield client, any_url


def _run(client: TestClient[Any], name: str, params: dict[str, Any]) -> tuple[int, Any]:
    response = client.post("/api/messages/", headers={"Authorization": f"Bearer {TOKEN}"},
                           json={"name": "execute_action", "params": {
                               "model": "pets", "name": name, "id": 1, "params": params}})
    return response.status_code, response.json()


def _owner_of_pet(url: str) -> str:
    engine = sync_engine(url)
    with engine.connect() as conn:
        owner = conn.execute(sa.text("SELECT owner_code FROM pets WHERE id = 1")).scalar_one()
    engine.dispose()
    return str(owner)


@pytest.mark.parametrize(("action", "field"), [("rehome", "owner"),
                                               ("rehome_all", "owner_code")])
def test_a_foreign_key_value_is_checked_before_the_body_runs(http, action: str,
                                                             field: str) -> None:
    client, url = http
    assert _run(client, action, {field: "ZED"}) == (
        400, {field: ["no owners record with id ZED"]})
    assert _run(client, action, {field: "TOO LONG"}) == (
        400, {field: ["Not a valid id: at most 4 characters."]})
    assert _owner_of_pet(url) == "ANNA"
    assert _run(client, action, {field: "BOB"})[0] == 200
    assert _owner_of_pet(url) == "BOB"


def test_a_check_of_equalities_joined_by_or_gives_select_options(any_url: str) -> None:
    run_statements(any_url, [
        "CREATE TABLE shirts (id INTEGER PRIMARY KEY, size VARCHAR(2) NOT NULL, "
        "CONSTRAINT sizes CHECK (size = 'S' OR size = 'M' OR size = 'L'))",
    ])
    flex = Flex(any_url, settings=Settings(tokens=(TOKEN,), journal=False))

    @flex.action(model="shirts", for_instance=True, bulk=True, fields=["size"])
    def resize(shirts: list[Any], size: str) -> int:
        return len(shirts)

    with TestClient(flex.app) as client:
        listed = client.post("/api/messages/", headers={"Authorization": f"Bearer {TOKEN}"},
                             json={"name": "get_action_list"}).json()
    [size] = listed[0]["params"]
    assert (size["field"], size["params"]["options"]) == ("SelectField", [
        {"value": "S", "name": "S"}, {"value": "M", "name": "M"}, {"value": "L", "name": "L"}])
