"""Records of composite-key and keyless collections, over HTTP on SQLite, PostgreSQL and
MariaDB: an id naming several rows is refused (nothing runs), a full key names one row, in
``id``, ``ids``, with ``inverseIds`` and as a record parameter; an inverse selection of rows a
keyless table cannot tell apart is refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from flexorm import Flex, Settings
from tests.conftest import run_statements, sync_engine

TOKEN = "keys-key"
LANGUAGES = [("NLD", "Dutch"), ("NLD", "Frisian"), ("NLD", "Arabic"), ("NLD", "Turkish"),
             ("ABW", "Papiamento")]


@pytest.fixture
def http(any_url: str) -> Iterator[tuple[TestClient[Any], str]]:
    run_statements(any_url, [
        "CREATE TABLE countrylanguage (countrycode CHAR(3) NOT NULL, language VARCHAR(30) "
        "NOT NULL, percentage INTEGER NOT NULL, PRIMARY KEY (countrycode, language))",
        "CREATE TABLE readings (sensor VARCHAR(10), value INTEGER)",
        "CREATE TABLE shifts (day DATE NOT NULL, slot INTEGER NOT NULL, taken INTEGER NOT NULL, "
        "PRIMARY KEY (day, slot))",
        "INSERT INTO shifts VALUES ('2026-12-05', 1, 0)",
        *(f"INSERT INTO countrylanguage VALUES ('{code}', '{language}', 10)"
          for code, language in LANGUAGES),
        "INSERT INTO readings VALUES ('a', 1)", "INSERT INTO readings VALUES ('a', 2)",
        "INSERT INTO readings VALUES ('b', 3)",
    ])
    flex = Flex(any_url, settings=Settings(tokens=(TOKEN,), journal=False))
    language_model = flex.model("countrylanguage")

    @flex.action(model="countrylanguage", for_instance=True)
    def grow(row: Any) -> str:
        row.percentage += 1
        return f"{row.countrycode}/{row.language}"

    @flex.action(model="countrylanguage", for_instance=True, bulk=True)
    def grow_all(rows: list[Any]) -> list[str]:
        for row in rows:
            row.percentage += 1
        return sorted(row.language for row in rows)

    @flex.action(model="countrylanguage")
    def census() -> str:
        return "counted"

    @flex.action(model="shifts", for_instance=True)
    def take(shift: Any) -> int:
        shift.taken += 1
        return int(shift.taken)

    @flex.action(model="readings", for_instance=True)
    def double(reading: Any) -> int:
        reading.value *= 2
        return int(reading.value)

    @flex.action(model="readings", for_instance=True, bulk=True)
    def double_all(readings: list[Any]) -> list[int]:
        for reading in readings:
            reading.value *= 2
        return sorted(int(reading.value) for reading in readings)

    @flex.action()
    def spoken(language: language_model) -> str:  # type: ignore[valid-type]
        language.percentage += 5
        return f"{language.countrycode}/{language.language}"

    with TestClient(flex.app, raise_server_exceptions=False) as client:
        yield client, any_url


def _execute(client: TestClient[Any], name: str, model: str = "countrylanguage",
             **params: Any) -> tuple[int, Any]:
    response = client.post("/api/messages/", headers={"Authorization": f"Bearer {TOKEN}"},
                           json={"name": "execute_action",
                                 "params": {"model": model, "name": name, **params}})
    return response.status_code, response.json()


def _percentages(url: str) -> dict[tuple[str, str], int]:
    engine = sync_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT countrycode, language, percentage "
                                    "FROM countrylanguage")).all()
    engine.dispose()
    return {(code.strip(), language): percentage for code, language, percentage in rows}


def _readings(url: str) -> list[tuple[str, int]]:
    engine = sync_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT sensor, value FROM readings")).all()
    engine.dispose()
    return sorted((sensor, value) for sensor, value in rows)


AMBIGUOUS = ("id 'NLD' matches 4 countrylanguage records, whose key is (countrycode, "
             'language): send the full key, {"countrycode": ..., "language": ...}')


def test_an_id_naming_several_rows_is_refused_and_nothing_runs(http) -> None:
    client, url = http
    before = _percentages(url)
    assert _execute(client, "grow", id="NLD") == (400, {"ids": [AMBIGUOUS]})
    assert _execute(client, "grow_all", ids=["ABW", "NLD"]) == (400, {"ids": [AMBIGUOUS]})
    assert _percentages(url) == before


def test_an_id_naming_one_row_runs_on_it(http) -> None:
    client, url = http
    assert _execute(client, "grow", id="ABW") == (200, {"result": "ABW/Papiamento"})
    assert _percentages(url)[("ABW", "Papiamento")] == 11


def test_a_full_key_names_one_row_in_id_and_ids(http) -> None:
    client, url = http
    dutch = {"countrycode": "NLD", "language": "Dutch"}
    frisian = {"language": "Frisian", "countrycode": "NLD"}
    assert _execute(client, "grow", id=dutch) == (200, {"result": "NLD/Dutch"})
    assert _execute(client, "grow", ids=[dutch, frisian]) == (
        200, {"result": ["NLD/Dutch", "NLD/Frisian"]})
    after = _percentages(url)
    assert (after[("NLD", "Dutch")], after[("NLD", "Frisian")], after[("NLD", "Arabic")]) == (
        12, 11, 10)


def test_a_full_key_in_an_inverse_selection_leaves_out_that_row(http) -> None:
    client, url = http
    answer = _execute(client, "grow_all", ids=[{"countrycode": "NLD", "language": "Dutch"}],
                      inverseIds=True)
    assert answer == (200, {"result": ["Arabic", "Frisian", "Papiamento", "Turkish"]})
    assert _percentages(url)[("NLD", "Dutch")] == 10


def test_a_full_key_naming_no_row_is_shown_as_the_key_that_was_sent(http) -> None:
    """A full key naming no record was shown as Python's tuple of its values (a date key as
    ``(10001, datetime.date(1999, 1, 1))``); it is shown as the object a client sends."""
    client, url = http
    latin = {"countrycode": "NLD", "language": "Latin"}
    missing = 'no countrylanguage record with id {"countrycode": "NLD", "language": "Latin"}'
    assert _execute(client, "grow", ids=[latin, {"countrycode": "NLD", "language": "Dutch"}]
                    ) == (400, {"ids": [missing]})
    assert _execute(client, "spoken", model=None, params={"language": latin}) == (
        400, {"language": [missing]})
    assert _percentages(url)[("NLD", "Dutch")] == 10


@pytest.mark.parametrize(("key", "message"), [
    ({"countrycode": "NLD"}, "a full key names exactly the key columns: countrycode, language"),
    ({"countrycode": "NLD", "language": "Dutch", "extra": 1},
     "a full key names exactly the key columns: countrycode, language"),
])
def test_a_full_key_must_name_every_key_column(http, key: dict[str, Any], message: str) -> None:
    client, _ = http
    status, body = _execute(client, "grow", id=key)
    assert status == 400
    assert message in body["ids"][0]


def test_a_keyless_collection_refuses_an_id_shared_by_several_rows(http) -> None:
    client, url = http
    status, body = _execute(client, "double", model="readings", id="a")
    assert status == 400
    assert body["ids"] == ["id 'a' matches 2 readings records: readings has no primary key, "
                           "and its records are told apart by their first column, sensor, "
                           "alone; these cannot be"]
    assert _execute(client, "double", model="readings", id="b") == (200, {"result": 6})
    assert _readings(url) == [("a", 1), ("a", 2), ("b", 6)]
    status, body = _execute(client, "double", model="readings", id={"sensor": "b"})
    assert status == 400
    assert "readings has no primary key" in body["ids"][0]


def test_inverse_ids_on_an_action_without_records_is_refused(http) -> None:
    client, _ = http
    assert _execute(client, "census", ids=[], inverseIds=True) == (400, {"inverseIds": [
        "action 'census' runs on no records: inverseIds selects records, leave it out"]})


def test_a_record_parameter_takes_a_full_key(http) -> None:
    client, url = http
    status, body = _execute(client, "spoken", model=None, params={"language": "NLD"})
    assert (status, body) == (400, {"language": [AMBIGUOUS]})
    frisian = {"countrycode": "NLD", "language": "Frisian"}
    assert _execute(client, "spoken", model=None, params={"language": frisian}) == (
        200, {"result": "NLD/Frisian"})
    assert _execute(client, "spoken", model=None, params={"language": "ABW"}) == (
        200, {"result": "ABW/Papiamento"})
    after = _percentages(url)
    assert (after[("NLD", "Frisian")], after[("NLD", "Dutch")]) == (15, 10)
    status, body = _execute(client, "spoken", model=None,
                            params={"language": {"countrycode": "NLD"}})
    assert status == 400
    assert "a full key names exactly the key columns: countrycode, language" in body["language"][0]


def test_an_inverse_selection_of_rows_sharing_a_first_column_is_refused(http) -> None:
    client, url = http
    status, body = _execute(client, "double_all", model="readings", ids=["b"], inverseIds=True)
    assert status == 400
    assert body == {"inverseIds": [
        "readings has no primary key, and its records are told apart by their first column, "
        "sensor, alone: 2 records have sensor 'a'; inverseIds cannot select these (select "
        "records by id instead)"]}
    assert _readings(url) == [("a", 1), ("a", 2), ("b", 3)]
    assert _execute(client, "double_all", model="readings", ids=["a"], inverseIds=True) == (
        200, {"result": [6]})
    assert _readings(url) == [("a", 1), ("a", 2), ("b", 6)]


def test_an_inverse_selection_of_rows_without_a_first_column_is_refused(http) -> None:
    client, url = http
    run_statements(url, ["INSERT INTO readings VALUES (NULL, 4)"])
    status, body = _execute(client, "double_all", model="readings", ids=["a"], inverseIds=True)
    assert status == 400
    assert body["inverseIds"][0].startswith(
        "readings has no primary key, and its records are told apart by their first column, "
        "sensor, alone: 1 record has no sensor;")
    engine = sync_engine(url)
    with engine.connect() as conn:
        values = conn.execute(sa.text("SELECT value FROM readings ORDER BY value")).scalars()
        assert list(values) == [1, 2, 3, 4]
    engine.dispose()


def test_the_options_of_a_record_parameter_name_records_of_a_composite_key_by_their_full_key(
        http) -> None:
    """Sakila's film_actor, the airlines demo's seats: the options of a parameter taking such a
    record were the first key column's values (``NLD`` four times), each of which the
    parameter then refused as naming several records."""
    client, url = http
    response = client.post("/api/messages/", headers={"Authorization": f"Bearer {TOKEN}"},
                           json={"name": "get_field_options", "params": {
                               "action": "spoken", "field": "language", "query": "NLD"}})
    assert response.status_code == 200
    options = response.json()
    assert options == [
        {"value": {"countrycode": "NLD", "language": language}, "name": f"NLD, {language}"}
        for language in ("Arabic", "Dutch", "Frisian", "Turkish")]
    for option in options:  # every value offered is one the parameter takes
        assert _execute(client, "spoken", model=None, params={"language": option["value"]}) == (
            200, {"result": f"NLD/{option['value']['language']}"})
    assert all(percentage == 15 for (code, _), percentage in _percentages(url).items()
               if code == "NLD")


def test_a_full_key_with_a_bad_value_is_shown_as_the_key_that_was_sent(http) -> None:
    """A full key whose value does not fit its column was shown as Python's repr of a dict
    (``"{'day': ...}"``); it is shown as the JSON a client sent."""
    client, _ = http
    bad = {"day": "2026-13-05", "slot": 1}
    assert _execute(client, "take", model="shifts", ids=[bad]) == (400, {"ids": [
        '{"day": "2026-13-05", "slot": 1} is not a valid shifts id (day: not an ISO 8601 '
        'date)']})
    assert _execute(client, "take", model="shifts", id={"day": "2026-12-05", "slot": 1}) == (
        200, {"result": 1})
