"""Records keyed by less common column types, selected by id over HTTP: each id is converted to
the key's type and compared as one (PostgreSQL's boolean, interval, inet and bytea keys, MySQL's
BIT, YEAR, BOOLEAN, VARBINARY, BIGINT UNSIGNED and TIME ones, SQLite's untyped and REAL ones), or
refused with a 400 when the key's values cannot name a record (arrays, JSON, MySQL's SET)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from flexorm import Flex, Settings
from tests.conftest import run_statements, sync_engine

TOKEN = "key-types-key"


def _serve(url: str, tables: list[str]) -> Iterator[TestClient[Any]]:
    flex = Flex(url, settings=Settings(tokens=(TOKEN,), journal=False))
    for table in tables:
        def touch(rows: list[Any]) -> list[int]:
            for row in rows:
                row.v += 1
            return sorted(int(row.v) for row in rows)

        flex.action(model=table, for_instance=True, bulk=True, name=f"touch_{table}")(touch)
    record = flex.model(tables[0])

    @flex.action()
    def pick(row: record) -> int:  # type: ignore[valid-type]
        return int(row.v)

    with TestClient(flex.app, raise_server_exceptions=False) as client:
        yield client


def _touch(client: TestClient[Any], table: str, ids: list[Any],
           inverse: bool = False) -> tuple[int, Any]:
    params: dict[str, Any] = {"model": table, "name": f"touch_{table}", "ids": ids}
    if inverse:
        params["inverseIds"] = True
    response = client.post("/api/messages/", headers={"Authorization": f"Bearer {TOKEN}"},
                           json={"name": "execute_action", "params": params})
    return response.status_code, response.json()


def _pick(client: TestClient[Any], value: Any) -> tuple[int, Any]:
    response = client.post("/api/messages/", headers={"Authorization": f"Bearer {TOKEN}"},
                           json={"name": "execute_action",
                                 "params": {"name": "pick", "params": {"row": value}}})
    return response.status_code, response.json()


def _values(url: str, table: str) -> list[int]:
    engine = sync_engine(url)
    with engine.connect() as conn:
        values = list(conn.execute(sa.text(f"SELECT v FROM {table} ORDER BY v")).scalars())
    engine.dispose()
    return values


PG_TABLES = [
    "CREATE TABLE flags (k boolean PRIMARY KEY, v int)",
    "INSERT INTO flags VALUES (true, 10), (false, 20)",
    "CREATE TABLE spans (k interval PRIMARY KEY, v int)",
    "INSERT INTO spans VALUES ('1 day', 10), ('90 minutes', 20)",
    "CREATE TABLE hosts (k inet PRIMARY KEY, v int)",
    "INSERT INTO hosts VALUES ('10.0.0.1', 10), ('10.0.0.2', 20)",
    "CREATE TABLE blobs (k bytea PRIMARY KEY, v int)",
    "INSERT INTO blobs VALUES ('\\x0102', 10)",
    "CREATE TABLE pairs (k int[] PRIMARY KEY, v int)",
    "INSERT INTO pairs VALUES ('{1,2}', 10)",
    "CREATE TABLE docs (k jsonb, v int)",
    "INSERT INTO docs VALUES ('\"x\"', 10)",
    "CREATE TABLE spots (k point, v int)",
    "INSERT INTO spots VALUES ('(1,2)', 10)",
    "CREATE TABLE notes (k xml, v int)",
    "INSERT INTO notes VALUES ('<a/>', 10)",
    "CREATE TABLE counts (k int PRIMARY KEY, v int)",
    "INSERT INTO counts VALUES (2147483647, 10)",
    "CREATE TABLE tiny (k smallint PRIMARY KEY, v int)",
    "INSERT INTO tiny VALUES (-32768, 10)",
    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
    "CREATE TABLE moods (k mood PRIMARY KEY, v int)",
    "INSERT INTO moods VALUES ('ok', 10)",
]


@pytest.fixture
def pg_client(pg_url: str) -> Iterator[tuple[TestClient[Any], str]]:
    run_statements(pg_url, PG_TABLES)
    for client in _serve(pg_url, ["flags", "spans", "hosts", "blobs", "pairs", "docs", "spots",
                                  "notes", "counts", "tiny", "moods"]):
        yield client, pg_url


@pytest.mark.postgres
def test_postgres_keys_compared_as_their_type(pg_client) -> None:
    client, url = pg_client
    assert _touch(client, "flags", [True]) == (200, {"result": [11]})
    assert _touch(client, "flags", ["false"]) == (200, {"result": [21]})
    assert _touch(client, "spans", [86400, "5400"]) == (200, {"result": [11, 21]})
    assert _touch(client, "hosts", ["10.0.0.2"]) == (200, {"result": [21]})
    assert _touch(client, "hosts", ["10.0.0.2"], inverse=True) == (200, {"result": [11]})
    assert _touch(client, "blobs", ["AQI="]) == (200, {"result": [11]})
    assert _pick(client, False) == (200, {"result": 21})
    assert (_values(url, "flags"), _values(url, "spans"), _values(url, "hosts")) == (
        [11, 21], [11, 21], [11, 21])


@pytest.mark.postgres
def test_rows_keyed_by_values_python_cannot_order_are_saved_together(pg_url: str) -> None:
    """Saving several rows sorts them by key: ranges, and IPv4 and IPv6 addresses, have no
    order in Python (a 500 before the types were given one)."""
    run_statements(pg_url, [
        "CREATE TABLE periods (k int4range PRIMARY KEY, v int)",
        "INSERT INTO periods VALUES ('[1,5)', 10), ('[5,9)', 20), ('empty', 30)",
        "CREATE TABLE nets (k inet PRIMARY KEY, v int)",
        "INSERT INTO nets VALUES ('10.0.0.1', 10), ('::1', 20), ('192.168.0.0/16', 30)",
    ])
    for client in _serve(pg_url, ["periods", "nets"]):
        assert _touch(client, "periods", ["[1,5)", "[5,8]"]) == (200, {"result": [11, 21]})
        assert _touch(client, "periods", [], inverse=True) == (200, {"result": [12, 22, 31]})
        assert _touch(client, "nets", ["::1", "10.0.0.1"]) == (200, {"result": [11, 21]})
        assert _touch(client, "nets", [], inverse=True) == (200, {"result": [12, 22, 31]})
    assert (_values(pg_url, "periods"), _values(pg_url, "nets")) == ([12, 22, 31], [12, 22, 31])


@pytest.mark.postgres
def test_postgres_ids_that_do_not_fit_the_key_are_refused(pg_client) -> None:
    client, _ = pg_client
    assert _touch(client, "spans", ["1 day"]) == (400, {"ids": [
        "'1 day' is not a valid spans id (not a duration in seconds)"]})
    assert _touch(client, "blobs", ["\\x0102"]) == (400, {"ids": [
        "'\\\\x0102' is not a valid blobs id (not base64, as binary values are sent)"]})
    assert _touch(client, "flags", ["maybe"]) == (400, {"ids": [
        "'maybe' is not a valid flags id (not true or false)"]})


@pytest.mark.postgres
def test_keys_whose_values_cannot_name_a_record_are_refused(pg_client) -> None:
    client, url = pg_client
    assert _touch(client, "pairs", ["{1,2}"]) == (400, {"ids": [
        "'{1,2}' is not a valid pairs id (k is an array column, whose values cannot identify "
        "a record)"]})
    assert _touch(client, "docs", ["x"]) == (400, {"ids": [
        "'x' is not a valid docs id (k is a JSON column, whose values cannot identify a "
        "record)"]})
    assert _touch(client, "pairs", [], inverse=True) == (400, {"non_field_errors": [
        "records of pairs cannot be selected: k is an array column, whose values cannot "
        "identify a record"]})
    assert (_values(url, "pairs"), _values(url, "docs")) == ([10], [10])


@pytest.mark.postgres
def test_keys_the_database_cannot_compare_are_refused(pg_client) -> None:
    """A table without a key whose first column has no equality nor order in the database
    (``point``, ``xml``): its records are refused as the database says, not a 500."""
    client, url = pg_client
    for table in ("spots", "notes"):
        refused = (400, {"non_field_errors": [
            f"records of {table} cannot be selected: the database cannot compare values of "
            "k"]})
        assert _touch(client, table, ["(1,2)" if table == "spots" else "<a/>"]) == refused
        assert _touch(client, table, [], inverse=True) == refused
        assert _values(url, table) == [10]


MARIADB_TABLES = [
    "CREATE TABLE events (k BIGINT UNSIGNED PRIMARY KEY, v INT)",
    "INSERT INTO events VALUES (18446744073709551615, 10), (9223372036854775808, 20), (1, 30)",
    "CREATE TABLE bits (k BIT(8) PRIMARY KEY, v INT)",
    "INSERT INTO bits VALUES (b'101', 10)",
    "CREATE TABLE years (k YEAR PRIMARY KEY, v INT)",
    "INSERT INTO years VALUES (2024, 10)",
    "CREATE TABLE switches (k BOOLEAN PRIMARY KEY, v INT)",
    "INSERT INTO switches VALUES (TRUE, 10), (FALSE, 20)",
    "CREATE TABLE codes (k VARBINARY(16) PRIMARY KEY, v INT)",
    "INSERT INTO codes VALUES ('abc', 10)",
    "CREATE TABLE perks (k SET('gift', 'wrap') PRIMARY KEY, v INT)",
    "INSERT INTO perks VALUES ('gift,wrap', 10)",
    "CREATE TABLE sizes (k ENUM('s', 'm', 'l') PRIMARY KEY, v INT)",
    "INSERT INTO sizes VALUES ('m', 10)",
    "CREATE TABLE shifts (k TIME PRIMARY KEY, v INT)",
    "INSERT INTO shifts VALUES ('10:00:00', 10), ('100:00:00', 20), ('-01:30:00', 30)",
]


@pytest.fixture
def mariadb_client(mariadb_url: str) -> Iterator[tuple[TestClient[Any], str]]:
    run_statements(mariadb_url, MARIADB_TABLES)
    tables = ["events", "bits", "years", "switches", "codes", "perks", "shifts", "sizes"]
    for client in _serve(mariadb_url, tables):
        yield client, mariadb_url


# SQLAlchemy 2.1 warns on any comparison of a column of its MySQL BIT or YEAR type
@pytest.mark.filterwarnings("ignore:Type object <class 'sqlalchemy.dialects.mysql.types.")
@pytest.mark.mariadb
def test_mariadb_keys_compared_as_their_type(mariadb_client) -> None:
    client, url = mariadb_client
    assert _touch(client, "events", [18446744073709551615, "9223372036854775808"]) == (
        200, {"result": [11, 21]})
    assert _pick(client, 18446744073709551615) == (200, {"result": 11})
    assert _touch(client, "bits", [5]) == (200, {"result": [11]})
    assert _touch(client, "years", [2024]) == (200, {"result": [11]})
    assert _touch(client, "switches", ["true", False]) == (200, {"result": [11, 21]})
    assert _touch(client, "codes", ["YWJj"]) == (200, {"result": [11]})
    assert _touch(client, "shifts", ["10:00:00"]) == (200, {"result": [11]})
    # a TIME holds durations: beyond a day's hours and below zero, as answers write them
    assert _touch(client, "shifts", ["100:00:00", "-01:30"]) == (200, {"result": [21, 31]})
    assert [_values(url, table) for table in ("events", "bits", "years", "switches", "codes",
                                              "shifts")] \
        == [[11, 21, 30], [11], [11], [11, 21], [11], [11, 21, 31]]


@pytest.mark.postgres
def test_postgres_ids_beyond_what_the_key_column_stores_are_refused_under_their_field(
        pg_client) -> None:
    """An id past the column's width names no record: refused under ``ids`` with the column's
    range, where the database's own refusal ("integer out of range") was a statement's error
    for the request as a whole."""
    client, url = pg_client
    assert _touch(client, "counts", [2147483647]) == (200, {"result": [11]})
    assert _touch(client, "counts", [2147483648]) == (400, {"ids": [
        "'2147483648' is not a valid counts id (out of range: from -2147483648 to "
        "2147483647)"]})
    assert _touch(client, "tiny", ["-32769"], inverse=True) == (400, {"ids": [
        "'-32769' is not a valid tiny id (out of range: from -32768 to 32767)"]})
    assert (_values(url, "counts"), _values(url, "tiny")) == ([11], [10])


@pytest.mark.postgres
def test_postgres_ids_outside_an_enum_key_are_refused_under_their_field(pg_client) -> None:
    client, url = pg_client
    assert _touch(client, "moods", ["ok"]) == (200, {"result": [11]})
    assert _touch(client, "moods", ["OK", "meh"]) == (400, {"ids": [
        "'OK' is not a valid moods id (not one of 'sad', 'ok', 'happy')",
        "'meh' is not a valid moods id (not one of 'sad', 'ok', 'happy')"]})
    assert _values(url, "moods") == [11]


@pytest.mark.mariadb
def test_mariadb_ids_that_do_not_fit_the_key_are_refused(mariadb_client) -> None:
    client, url = mariadb_client
    assert _touch(client, "events", [2**64]) == (400, {"ids": [
        "'18446744073709551616' is not a valid events id (out of range: from 0 to "
        "18446744073709551615)"]})
    assert _pick(client, -1) == (400, {"row": [
        "Not a valid id: out of range: from 0 to 18446744073709551615."]})
    assert _touch(client, "sizes", ["M "]) == (200, {"result": [11]})  # as MariaDB compares
    assert _touch(client, "sizes", ["xl"]) == (400, {"ids": [
        "'xl' is not a valid sizes id (not one of 's', 'm', 'l')"]})
    assert _touch(client, "years", [2156]) == (400, {"ids": [
        "'2156' is not a valid years id (out of range: from 1901 to 2155)"]})
    assert _touch(client, "perks", ["gift,wrap"]) == (400, {"ids": [
        "'gift,wrap' is not a valid perks id (k is a SET column, whose values cannot identify "
        "a record)"]})
    assert _touch(client, "shifts", ["839:00:00"]) == (400, {"ids": [
        "'839:00:00' is not a valid shifts id (not a time from -838:59:59 to 838:59:59, as "
        "[-]hours:minutes[:seconds])"]})
    assert (_values(url, "perks"), _values(url, "shifts")) == ([10], [10, 20, 30])


@pytest.fixture
def sqlite_client(sqlite_url: str) -> Iterator[tuple[TestClient[Any], str]]:
    run_statements(sqlite_url, ["CREATE TABLE legacy (k, v)",
                                "INSERT INTO legacy VALUES (1, 10), ('two', 20), (2.5, 30)",
                                "CREATE TABLE measures (k REAL PRIMARY KEY, v INTEGER)",
                                "INSERT INTO measures VALUES (1.5, 10)"])
    for client in _serve(sqlite_url, ["legacy", "measures"]):
        yield client, sqlite_url


def test_sqlite_untyped_keys_keep_the_type_they_were_sent_with(sqlite_client) -> None:
    client, url = sqlite_client
    assert _touch(client, "legacy", [1, 2.5]) == (200, {"result": [11, 31]})
    assert _touch(client, "legacy", ["two"]) == (200, {"result": [21]})
    assert _pick(client, 1) == (200, {"result": 11})
    assert _touch(client, "legacy", ["1"]) == (400, {"ids": ["no legacy record with id 1"]})
    assert _values(url, "legacy") == [11, 21, 31]


def test_floating_point_keys_take_numbers(sqlite_client) -> None:
    client, url = sqlite_client
    assert _touch(client, "measures", [1.5]) == (200, {"result": [11]})
    assert _touch(client, "measures", ["1.5"]) == (200, {"result": [12]})
    assert _touch(client, "measures", ["x"]) == (400, {"ids": [
        "'x' is not a valid measures id (not a number)"]})
    assert _values(url, "measures") == [12]
