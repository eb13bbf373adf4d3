"""Ids name the records the database says they do, over HTTP on SQLite, PostgreSQL and MariaDB:
under a case-insensitive key (SQLite's ``COLLATE NOCASE``, PostgreSQL's ``citext``, MariaDB's
``utf8mb4_general_ci``), ``"abc"`` selects the record ``ABC``, as a record, a parameter, and an
id left out of an inverse selection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from flexorm import Flex, Settings
from tests.conftest import run_statements, sync_engine

TOKEN = "key-matching-key"

_TEXT_KEY = {
    "sqlite": "TEXT COLLATE NOCASE",
    "postgresql": "citext",
    "mysql": "VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
}


@pytest.fixture
def http(any_url: str) -> Iterator[tuple[TestClient[Any], str]]:
    dialect = sa.make_url(any_url).get_backend_name()
    setup = ["CREATE EXTENSION IF NOT EXISTS citext"] if dialect == "postgresql" else []
    run_statements(any_url, [
        *setup,
        f"CREATE TABLE tags (name {_TEXT_KEY[dialect]} NOT NULL PRIMARY KEY, uses INTEGER)",
        "INSERT INTO tags VALUES ('Python', 0)", "INSERT INTO tags VALUES ('SQL', 0)",
        f"CREATE TABLE labels (name {_TEXT_KEY[dialect]}, uses INTEGER)",
        "INSERT INTO labels VALUES ('Red', 0)", "INSERT INTO labels VALUES ('RED', 0)",
        "INSERT INTO labels VALUES ('blue', 0)",
    ])
    flex = Flex(any_url, settings=Settings(tokens=(TOKEN,), journal=False))
    tag_model = flex.model("tags")

    @flex.action(model="tags", for_instance=True, bulk=True)
    def use(tags: list[Any]) -> list[str]:
        for tag in tags:
            tag.uses += 1
        return sorted(tag.name for tag in tags)

    @flex.action()
    def pick(tag: tag_model) -> str:  # type: ignore[valid-type]
        tag.uses += 10
        return str(tag.name)

    @flex.action(model="labels", for_instance=True)
    def paint(label: Any) -> str:
        label.uses += 1
        return str(label.name)

    with TestClient(flex.app, raise_server_exceptions=False) as client:
        yield client, any_url


def _execute(client: TestClient[Any], name: str, **params: Any) -> tuple[int, Any]:
    response = client.post("/api/messages/", headers={"Authorization": f"Bearer {TOKEN}"},
                           json={"name": "execute_action", "params": {"name": name, **params}})
    return response.status_code, response.json()


def _uses(url: str, table: str = "tags") -> dict[str, int]:
    engine = sync_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT name, uses FROM {table}")).all()
    engine.dispose()
    return dict(rows)


def test_an_id_selects_the_record_its_key_equals_in_the_database(http) -> None:
    client, url = http
    assert _execute(client, "use", model="tags", ids=["python"]) == (200, {"result": ["Python"]})
    assert _uses(url) == {"Python": 1, "SQL": 0}


def test_two_ids_naming_one_record_select_it_once(http) -> None:
    client, url = http
    answer = _execute(client, "use", model="tags", ids=["Python", "PYTHON", "sql"])
    assert answer == (200, {"result": ["Python", "SQL"]})
    assert _uses(url) == {"Python": 1, "SQL": 1}


def test_an_id_matching_no_record_is_still_missing(http) -> None:
    client, url = http
    assert _execute(client, "use", model="tags", ids=["python", "rust"]) == (
        400, {"ids": ["no tags record with id rust"]})
    assert _uses(url) == {"Python": 0, "SQL": 0}


def test_a_record_parameter_takes_the_record_its_id_equals(http) -> None:
    client, url = http
    assert _execute(client, "pick", params={"tag": "sql"}) == (200, {"result": "SQL"})
    assert _uses(url)["SQL"] == 10


def test_an_inverse_selection_leaves_out_the_record_an_id_equals(http) -> None:
    client, url = http
    assert _execute(client, "use", model="tags", ids=["python"], inverseIds=True) == (
        200, {"result": ["SQL"]})
    assert _uses(url) == {"Python": 0, "SQL": 1}


def test_a_keyless_id_equal_to_several_rows_in_the_database_is_refused(http) -> None:
    client, url = http
    status, body = _execute(client, "paint", model="labels", id="red")
    assert status == 400
    assert body["ids"][0].startswith("id 'red' matches 2 labels records")
    assert _execute(client, "paint", model="labels", id="BLUE") == (200, {"result": "blue"})
    assert _uses(url, "labels") == {"Red": 0, "RED": 0, "blue": 1}


def test_more_ids_left_out_than_a_chunk_binds_are_matched_by_the_database(http) -> None:
    _, url = http
    flex = Flex(url, settings=Settings(tokens=(TOKEN,), journal=False, chunk_size=1))

    @flex.action(model="tags", for_instance=True)
    def use(tag: Any) -> str:
        tag.uses += 1
        return str(tag.name)

    with TestClient(flex.app, raise_server_exceptions=False) as client:
        assert _execute(client, "use", model="tags", ids=["python", "rust"],
                        inverseIds=True) == (200, {"result": ["SQL"]})
    assert _uses(url) == {"Python": 0, "SQL": 1}
