"""flexorm on the classic public sample databases: Chinook, Pagila, Northwind.

Each sample (``tests/integration/sample_schemas``) is reflected through ``flexorm inspect
--json`` and ``GET /api/model_descriptions/`` (the same array), then driven through the messages
endpoint with the actions of ``sample_schemas/apps.py``. Every answer is a 200 or a 4xx, never a
500, and a refused action leaves the database as it was.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from flexorm import Flex
from flexorm.cli.inspect import inspect_command
from tests.conftest import NO_DATA_SOURCE, sync_engine
from tests.integration.sample_schemas import apps, fetch, load

AUTH = {"Authorization": f"Bearer {apps.TOKEN}"}


# -- helpers ----------------------------------------------------------------------------------


def inspect_json(url: str) -> list[dict[str, Any]]:
    env: dict[str, str | None] = {f"FLEXORM_{name}": None
                                  for name in ("DATABASE_URL", "SCHEMAS", "INCLUDE", "EXCLUDE")}
    result = CliRunner().invoke(inspect_command, [url, "--json"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def described(url: str, flex: Flex) -> dict[str, dict[str, Any]]:
    """The models by name, checked identical over ``flexorm inspect --json`` and HTTP."""
    from_cli = inspect_json(url)
    with TestClient(flex.app) as client:
        response = client.get("/api/model_descriptions/", headers=AUTH)
    assert response.status_code == 200
    assert response.json() == from_cli
    return {model["model"]: model for model in from_cli}


def field(models: dict[str, dict[str, Any]], model: str, name: str) -> dict[str, Any]:
    return next(f for f in models[model]["fields"] if f["name"] == name)


def post(client: TestClient, body: dict[str, Any]) -> tuple[int, Any]:
    response = client.post("/api/messages/", json=body, headers=AUTH)
    assert response.status_code < 500, response.text  # never an internal error
    return response.status_code, response.json()


def execute(model: str, name: str, **params: Any) -> dict[str, Any]:
    return {"name": "execute_action", "params": {"model": model, "name": name, **params}}


def options(model: str, action: str | None, field_name: str, query: str) -> dict[str, Any]:
    params = {"model": model, "field": field_name, "query": query}
    if action is not None:
        params["action"] = action
    return {"name": "get_field_options", "params": params}


def dialect_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


@pytest.fixture
def chinook_url(db_url: str) -> str:
    load(db_url, "chinook")
    return db_url


@pytest.fixture
def northwind_url(db_url: str) -> str:
    load(db_url, "northwind")
    return db_url


@pytest.fixture
def pagila_url(pg_url: str) -> str:
    load(pg_url, "pagila")
    return pg_url


# -- Chinook ----------------------------------------------------------------------------------


def test_chinook_reflects_camelcase_keys_prices_and_relations(chinook_url):
    models = described(chinook_url, apps.chinook(chinook_url))
    sqlite = dialect_of(chinook_url) == "sqlite"

    assert set(models) == {"Album", "Artist", "Customer", "Employee", "Genre", "Invoice",
                           "InvoiceLine", "MediaType", "Playlist", "PlaylistTrack", "Track"}
    assert field(models, "Album", "ArtistId") == {
        "name": "ArtistId", "db_column": "ArtistId", "field": "ForeignKey",
        "db_field": "IntegerField", "filterable": True, "null": False, "editable": True,
        "required": True,
        "params": {"db_internal_type": "INTEGER", "related_model": {"model": "Artist"}},
        **NO_DATA_SOURCE,
    }
    assert field(models, "Track", "UnitPrice") == {
        "name": "UnitPrice", "db_column": "UnitPrice", "field": "FloatField",
        "db_field": "NumberField", "filterable": True, "null": False, "editable": True,
        "required": True, "params": {"db_internal_type": "NUMERIC(10, 2)"},
        **NO_DATA_SOURCE,
    }
    title = field(models, "Album", "Title")
    assert title["params"] == {"db_internal_type": "NVARCHAR(160)" if sqlite else "VARCHAR(160)",
                               "length": 160}
    # SQLite's INTEGER primary key is the rowid (filled in); Chinook's PostgreSQL keys are
    # plain INT columns the application must supply.
    album_id = field(models, "Album", "AlbumId")
    assert album_id["required"] is not sqlite
    assert album_id.get("default_type") == ("sequence" if sqlite else None)
    assert field(models, "Employee", "ReportsTo")["params"]["related_model"] == {
        "model": "Employee"}
    hire = field(models, "Employee", "HireDate")
    assert (hire["field"], hire["params"]["date"], hire["params"]["time"]) == (
        "DateTimeField", True, True)

    playlist_track = models["PlaylistTrack"]
    assert (playlist_track["primary_key_field"], playlist_track["primary_key_auto"],
            playlist_track["is_view"]) == ("PlaylistId", False, False)
    assert [r["name"] for r in playlist_track["relations"]] == [
        "PlaylistId__to__Playlist__PlaylistId", "TrackId__to__Track__TrackId"]
    assert {"name": "Track__AlbumId__to__AlbumId", "direction": "ONETOMANY",
            "local_field": "AlbumId", "related_model": "Track",
            "related_field": "AlbumId"} in models["Album"]["relations"]


def test_chinook_bulk_action_sets_a_numeric_column(chinook_url):
    prices = 'SELECT "TrackId", "UnitPrice" FROM "Track" ORDER BY "TrackId"'
    before = fetch(chinook_url, prices)
    with TestClient(apps.chinook(chinook_url).app) as client:
        status, listed = post(client, {"name": "get_action_list"})
        assert status == 200
        reprice = next(a for a in listed if a["name"] == "reprice")
        assert reprice == {
            "name": "reprice",
            "model_action": {"model": "Track", "for_instance": True, "bulk": True},
            "params": [{"name": "UnitPrice", "field": "DecimalField", "required": True,
                        "params": {"precision": 10, "scale": 2}}],
        }

        for bad, message in (("abc", "Input should be a valid decimal."),
                             ("123456789.5", "Decimal input should have no more than 8 digits "
                                             "before the decimal point.")):
            assert post(client, execute("Track", "reprice", ids=[1, 2],
                                        params={"UnitPrice": bad})) == (
                400, {"UnitPrice": [message]})
        assert fetch(chinook_url, prices) == before

        assert post(client, execute("Track", "reprice", ids=[1, "2"],
                                    params={"UnitPrice": "1.29"})) == (
            200, {"result": {"1": "1.29", "2": "1.29"}})
    after = dict(fetch(chinook_url, prices))
    assert [str(after[i]) for i in (1, 2, 3)] == ["1.29", "1.29", "0.99"]


def test_chinook_per_record_action_and_foreign_key_parameter(chinook_url):
    albums = 'SELECT "AlbumId", "Title", "ArtistId" FROM "Album" ORDER BY "AlbumId"'
    before = fetch(chinook_url, albums)
    with TestClient(apps.chinook(chinook_url).app) as client:
        assert post(client, execute("Album", "retitle", id="2", params={"title": "  "})) == (
            400, {"non_field_errors": ["a title cannot be blank"]})
        assert post(client, execute("Album", "move_to_artist", ids=[1, 4],
                                    params={"artist": 999})) == (
            400, {"artist": ["no Artist record with id 999"]})
        assert post(client, execute("Album", "move_to_artist", ids=[1, 999],
                                    params={"artist": "x"})) == (
            400, {"artist": ["Not a valid id: not a whole number."]})
        assert fetch(chinook_url, albums) == before

        assert post(client, execute("Album", "retitle", id=3, params={"title": "Restless"})) == (
            200, {"result": {"AlbumId": 3, "Title": "Restless", "ArtistId": 2}})
        assert post(client, execute("Album", "move_to_artist", ids=[1, 4],
                                    params={"artist": "3"})) == (
            200, {"result": {"artist": "Aerosmith", "albums": [1, 4]}})
    assert fetch(chinook_url, albums) == [
        (1, "For Those About To Rock We Salute You", 3), (2, "Balls to the Wall", 2),
        (3, "Restless", 2), (4, "Let There Be Rock", 3)]


def test_chinook_options_of_a_foreign_key_show_the_camelcase_display_column(chinook_url):
    with TestClient(apps.chinook(chinook_url).app) as client:
        assert post(client, options("Album", "move_to_artist", "artist", "ac")) == (
            200, [{"value": 1, "name": "AC/DC"}, {"value": 2, "name": "Accept"}])
        assert post(client, options("Album", "move_to_artist", "artist", "3")) == (
            200, [{"value": 3, "name": "Aerosmith"}])
        # a column's own options, without an action
        status, found = post(client, options("Album", None, "ArtistId", "mor"))
        assert (status, found) == (200, [{"value": 4, "name": "Alanis Morissette"}])


# -- Pagila -----------------------------------------------------------------------------------


RATINGS = [{"name": r, "value": r} for r in ("G", "PG", "PG-13", "R", "NC-17")]


@pytest.mark.postgres
def test_pagila_reflects_enum_domain_array_tsvector_bytea_partitions_and_views(
        pagila_url):
    models = described(pagila_url, apps.pagila(pagila_url))

    assert field(models, "film", "rating") == {
        "name": "rating", "db_column": "rating", "field": "SelectField",
        "db_field": "SelectField", "filterable": True, "null": True, "editable": True,
        "required": False, "default_type": "value", "default_value": "G",
        "params": {"db_internal_type": "mpaa_rating", "length": 5, "options": RATINGS},
        **NO_DATA_SOURCE,
    }
    release_year = field(models, "film", "release_year")
    assert (release_year["field"], release_year["params"]) == (
        "IntegerField", {"db_internal_type": "year"})
    features = field(models, "film", "special_features")
    assert (features["field"], features["params"]) == ("JSONField", {"db_internal_type": "TEXT[]"})
    fulltext = field(models, "film", "fulltext")
    assert (fulltext["field"], fulltext["params"]) == (
        "CharField", {"db_internal_type": "TSVECTOR"})
    rate = field(models, "film", "rental_rate")
    assert (rate["db_field"], rate["params"], rate["default_type"], rate["default_value"],
            rate["required"]) == ("NumberField", {"db_internal_type": "NUMERIC(4, 2)"}, "value",
                                  4.99, False)
    picture = field(models, "staff", "picture")
    assert (picture["field"], picture["params"]) == ("BinaryField", {"db_internal_type": "BYTEA"})
    film_id = field(models, "film", "film_id")
    assert (film_id["default_type"], film_id["default_value"], film_id["required"]) == (
        "sequence", "'film_film_id_seq'::regclass", False)
    last_update = field(models, "actor", "last_update")
    assert (last_update["db_field"], last_update["default_type"]) == (
        "TimestampField", "datetime_now")
    category_id = field(models, "film_category", "category_id")
    assert (category_id["field"], category_id["db_field"], category_id["params"]) == (
        "ForeignKey", "SmallIntegerField",
        {"db_internal_type": "SMALLINT", "related_model": {"model": "category"}})

    # the partitioned parent is one collection, keyed as Pagila declares it
    assert "payment" in models
    assert not [name for name in models if name.startswith("payment_p")]
    assert models["payment"]["primary_key_field"] == "payment_date"
    assert models["film_actor"]["primary_key_field"] == "actor_id"

    views = {name for name, model in models.items() if model["is_view"]}
    assert views == {"actor_info", "customer_list", "film_list", "rental_by_category",
                     "staff_list_simple"}
    customer_list = models["customer_list"]
    assert (customer_list["primary_key_field"], customer_list["primary_key_auto"]) == ("id", True)
    assert field(models, "customer_list", "zip code")["field"] == "TextField"
    assert field(models, "film_list", "rating")["params"]["options"] == RATINGS


@pytest.mark.postgres
def test_pagila_enum_column_parameter_is_a_select(pagila_url):
    ratings = "SELECT film_id, rating::text FROM film ORDER BY film_id"
    before = fetch(pagila_url, ratings)
    with TestClient(apps.pagila(pagila_url).app) as client:
        status, listed = post(client, {"name": "get_action_list"})
        assert status == 200
        rerate = next(a for a in listed if a["name"] == "rerate")
        assert rerate["params"] == [{
            "name": "rating", "field": "SelectField", "required": False,
            "params": {"options": [{"value": o["value"], "name": o["name"]} for o in RATINGS]},
        }]
        assert post(client, options("film", "rerate", "rating", "pg")) == (
            200, [{"value": "PG", "name": "PG"}, {"value": "PG-13", "name": "PG-13"}])

        assert post(client, execute("film", "rerate", ids=[1, 3], params={"rating": "X"})) == (
            400, {"rating": ["Select one of the options: G, PG, PG-13, R, NC-17."]})
        assert fetch(pagila_url, ratings) == before

        assert post(client, execute("film", "rerate", ids=[1, 3],
                                    params={"rating": "PG-13"})) == (
            200, {"result": {"ACADEMY DINOSAUR": "PG-13", "ADAPTATION HOLES": "PG-13"}})
    assert fetch(pagila_url, ratings) == [(1, "PG-13"), (2, "G"), (3, "PG-13")]


@pytest.mark.postgres
def test_pagila_array_and_domain_columns(pagila_url):
    films = "SELECT film_id, special_features, release_year FROM film ORDER BY film_id"
    before = fetch(pagila_url, films)
    with TestClient(apps.pagila(pagila_url).app) as client:
        # the year DOMAIN's CHECK is the database's to enforce: a clean refusal, nothing written
        assert post(client, execute("film", "set_features", ids=[2],
                                    params={"special_features": ["Commentaries"],
                                            "release_year": 1800})) == (
            400, {"non_field_errors": ['The database refused the change: value for domain year '
                                       'violates check constraint "year_check"']})
        # a text[] parameter is a list of strings (or the JSON text of one), never a string
        # split into its characters
        for bad, message in (("Trailers", "Enter valid JSON."),
                             ({"a": 1}, "Input should be a valid list."),
                             ([1, 2], "Item [0]: Input should be a valid string.")):
            assert post(client, execute("film", "set_features", ids=[2],
                                        params={"special_features": bad})) == (
                400, {"special_features": [message]})
        assert fetch(pagila_url, films) == before

        assert post(client, execute("film", "set_features", ids=[2],
                                    params={"special_features": '["Trailers"]',
                                            "release_year": 2007})) == (
            200, {"result": [[["Trailers"], 2007]]})
    assert fetch(pagila_url, films)[1] == (2, ["Trailers"], 2007)


@pytest.mark.postgres
def test_pagila_partitioned_payment_by_its_timestamp_key(pagila_url):
    """Pagila keys ``payment`` by ``(payment_date, payment_id)``: Jet Admin's id is the
    timestamp, sent as text; it selects the rows of whatever partition holds them."""
    with TestClient(apps.pagila(pagila_url).app) as client:
        every = {"count": 3, "amount": "9.97", "ids": [16050, 16051, 16052]}
        assert post(client, execute("payment", "total", ids=[], inverseIds=True)) == (
            200, {"result": every})
        assert post(client, execute("payment", "total", inverseIds=True,
                                    ids=["2022-01-25T14:45:02.210000+00:00",
                                         "2022-02-15 14:45:25.513+00"])) == (
            200, {"result": {"count": 1, "amount": "0.99", "ids": [16051]}})
        assert post(client, execute("payment", "total",
                                    ids=["2022-01-25T15:45:02.21+01:00"])) == (
            200, {"result": {"count": 1, "amount": "2.99", "ids": [16050]}})
        assert post(client, execute("payment", "total", ids=["yesterday"])) == (
            400, {"ids": ["'yesterday' is not a valid payment id (not an ISO 8601 date and "
                          "time)"]})
        assert post(client, execute("payment", "total", ids=["2030-01-01T00:00:00Z"])) == (
            400, {"ids": ["no payment record with id 2030-01-01 00:00:00+00:00"]})


@pytest.mark.postgres
def test_pagila_views_are_listed_read_and_written_only_when_updatable(pagila_url):
    staff = "SELECT staff_id, email FROM staff ORDER BY staff_id"
    customers = "SELECT customer_id, first_name, last_name FROM customer ORDER BY customer_id"
    before = (fetch(pagila_url, staff), fetch(pagila_url, customers))
    with TestClient(apps.pagila(pagila_url).app) as client:
        status, listed = post(client, {"name": "get_action_list"})
        assert status == 200
        assert {a["model_action"]["model"] for a in listed if a["name"] == "show"} == {
            "customer_list", "staff_list_simple", "rental_by_category"}

        assert post(client, execute("customer_list", "show", id="1")) == (200, {"result": {
            "id": 1, "name": "MARY SMITH", "address": "1913 Hanoi Way", "zip code": "35200",
            "phone": "28303384290", "city": "Lethbridge", "country": "Canada",
            "notes": "active", "sid": 1}})
        assert post(client, execute("rental_by_category", "show", id="Comedy")) == (
            200, {"result": {"category": "Comedy", "total_sales": "5.99"}})

        # a view joining four tables, and a materialized view: refused before any SQL
        assert post(client, execute("customer_list", "rename_listed", id=1,
                                    params={"name": "X"})) == (400, {"non_field_errors": [
            "customer_list is a view the database cannot update: its rows cannot be changed "
            "(change the tables it reads from instead)"]})
        assert post(client, execute("rental_by_category", "zero_sales", id="Comedy")) == (
            400, {"non_field_errors": [
                "rental_by_category is a view the database cannot update: its rows cannot be "
                "changed (change the tables it reads from instead)"]})
        assert (fetch(pagila_url, staff), fetch(pagila_url, customers)) == before

        # a simple view PostgreSQL updates through to its table
        status, body = post(client, execute("staff_list_simple", "set_email", id=2,
                                            params={"email": "jon@example.com"}))
        assert (status, body["result"]["email"]) == (200, "jon@example.com")
    assert fetch(pagila_url, staff)[1] == (2, "jon@example.com")


# -- Northwind --------------------------------------------------------------------------------


def test_northwind_reflects_string_keys_spaces_blobs_and_keyless_tables(northwind_url):
    sqlite = dialect_of(northwind_url) == "sqlite"
    flex = (apps.northwind_sqlite if sqlite else apps.northwind_postgresql)(northwind_url)
    models = described(northwind_url, flex)

    if sqlite:
        details = models["Order Details"]
        assert (details["db_table"], details["primary_key_field"],
                details["primary_key_auto"]) == ("Order Details", "OrderID", False)
        assert field(models, "Order Details", "ProductID")["params"] == {
            "db_internal_type": "INTEGER", "related_model": {"model": "Products"}}
        assert field(models, "Order Details", "Discount")["db_field"] == "FloatField"
        customer_id = field(models, "Customers", "CustomerID")
        # SQLite lets a TEXT primary key hold NULL, and Northwind's does not say NOT NULL
        assert (customer_id["field"], customer_id["null"], models["Customers"][
            "primary_key_field"]) == ("TextField", True, "CustomerID")
        assert field(models, "Categories", "Picture")["params"] == {"db_internal_type": "BLOB"}
        assert field(models, "Employees", "ReportsTo")["params"]["related_model"] == {
            "model": "Employees"}
        assert models["Alphabetical list of products"]["is_view"] is True
        assert models["Order Subtotals"]["primary_key_field"] == "OrderID"
        return

    assert field(models, "customers", "customer_id") == {
        "name": "customer_id", "db_column": "customer_id", "field": "CharField",
        "db_field": "CharField", "filterable": True, "null": False, "editable": True,
        "required": True, "params": {"db_internal_type": "CHAR(5)", "length": 5},
        **NO_DATA_SOURCE,
    }
    # bpchar: character without a length, as the original script declares its references
    assert field(models, "orders", "customer_id") == {
        "name": "customer_id", "db_column": "customer_id", "field": "ForeignKey",
        "db_field": "CharField", "filterable": True, "null": True, "editable": True,
        "required": False, "params": {"db_internal_type": "CHAR", "length": None,
                                      "related_model": {"model": "customers"}},
        **NO_DATA_SOURCE,
    }
    details = models["order_details"]
    assert (details["primary_key_field"], details["primary_key_auto"]) == ("order_id", False)
    price = field(models, "order_details", "unit_price")
    assert (price["field"], price["db_field"], price["params"]) == (
        "FloatField", "FloatField", {"db_internal_type": "REAL"})
    assert field(models, "categories", "picture")["params"] == {"db_internal_type": "BYTEA"}
    assert field(models, "employees", "reports_to")["params"] == {
        "db_internal_type": "SMALLINT", "related_model": {"model": "employees"}}
    states = models["us_states"]
    assert (states["primary_key_field"], states["primary_key_auto"]) == ("state_id", True)


def _northwind(url: str) -> tuple[Flex, dict[str, str]]:
    if dialect_of(url) == "sqlite":
        return apps.northwind_sqlite(url), {
            "customers": "Customers", "details": "Order Details", "employees": "Employees",
            "customers_sql": 'SELECT "CustomerID", "ContactName" FROM "Customers" ORDER BY 1',
            "details_sql": 'SELECT "OrderID", "ProductID", "Discount" FROM "Order Details" '
                           'ORDER BY 1, 2',
            "employees_sql": 'SELECT "EmployeeID", "ReportsTo" FROM "Employees" ORDER BY 1'}
    return apps.northwind_postgresql(url), {
        "customers": "customers", "details": "order_details", "employees": "employees",
        "customers_sql": "SELECT customer_id, contact_name FROM customers ORDER BY 1",
        "details_sql": "SELECT order_id, product_id, discount FROM order_details ORDER BY 1, 2",
        "employees_sql": "SELECT employee_id, reports_to FROM employees ORDER BY 1"}


def test_northwind_customers_by_character_key(northwind_url):
    flex, names = _northwind(northwind_url)
    customers = names["customers"]
    before = fetch(northwind_url, names["customers_sql"])
    with TestClient(flex.app) as client:
        assert post(client, execute(customers, "set_contact", ids=["ALFKI", "NOPE1"],
                                    params={"contact": "X"})) == (
            400, {"ids": [f"no {customers} record with id NOPE1"]})
        assert fetch(northwind_url, names["customers_sql"]) == before

        assert post(client, execute(customers, "set_contact", id="ALFKI",
                                    params={"contact": "Maria"})) == (
            200, {"result": {"id": "ALFKI", "contact": "Maria"}})
        assert post(client, execute(customers, "set_contact", ids="ANATR,ANTON",
                                    params={"contact": "Ana"})) == (
            200, {"result": [{"id": "ANATR", "contact": "Ana"},
                             {"id": "ANTON", "contact": "Ana"}]})
    assert fetch(northwind_url, names["customers_sql"]) == [
        ("ALFKI", "Maria"), ("ANATR", "Ana"), ("ANTON", "Ana")]


def test_northwind_order_details_composite_key_needs_the_full_key(northwind_url):
    """Jet Admin's id of an order line is its first key column, ``order_id``, which every line
    of the order shares: such an id is refused, and the full key names one line."""
    flex, names = _northwind(northwind_url)
    details, lines = names["details"], names["details_sql"]
    order, product = (("OrderID", "ProductID") if dialect_of(northwind_url) == "sqlite"
                      else ("order_id", "product_id"))
    before = fetch(northwind_url, lines)
    with TestClient(flex.app) as client:
        assert post(client, execute(details, "discount", ids=["10248"],
                                    params={"percent": 10})) == (
            400, {"ids": [f"id 10248 matches 3 {details} records, whose key is ({order}, "
                          f'{product}): send the full key, {{"{order}": ..., "{product}": ...}}'
                          ]})
        assert post(client, execute(details, "discount", ids=[{order: 10249, product: 1}],
                                    params={"percent": 1000})) == (
            400, {"non_field_errors": ["percent must be between 0 and 100"]})
        assert fetch(northwind_url, lines) == before

        assert post(client, execute(details, "discount", ids=[
            {order: 10248, product: 1}, {order: "10248", product: "2"}],
                                    params={"percent": 10})) == (
            200, {"result": [[10248, 1], [10248, 2]]})
        assert post(client, execute(details, "discount", ids=[{order: 10248, product: 3}],
                                    inverseIds=True, params={"percent": 5})) == (
            200, {"result": [[10248, 1], [10248, 2], [10249, 1], [10249, 4]]})
    after = [(o, p, round(d, 2)) for o, p, d in fetch(northwind_url, lines)]
    assert after == [(10248, 1, 0.05), (10248, 2, 0.05), (10248, 3, round(before[2][2], 2)),
                     (10249, 1, 0.05), (10249, 4, 0.05)]


def test_northwind_employees_report_to_an_employee(northwind_url):
    flex, names = _northwind(northwind_url)
    employees = names["employees"]
    before = fetch(northwind_url, names["employees_sql"])
    with TestClient(flex.app) as client:
        assert post(client, execute(employees, "report_to", ids=[1, 2],
                                    params={"manager": 2})) == (
            400, {"non_field_errors": ["an employee cannot report to themself"]})
        assert fetch(northwind_url, names["employees_sql"]) == before
        assert post(client, options(employees, "report_to", "manager", "fu")) == (
            200, [{"value": 2, "name": "Fuller"}])
        assert post(client, execute(employees, "report_to", ids=[2],
                                    params={"manager": 1})) == (200, {"result": 1})
    assert fetch(northwind_url, names["employees_sql"]) == [(1, 2), (2, 1)]


@pytest.mark.parametrize("trigger", [False, True])
def test_northwind_sqlite_views_are_not_written(sqlite_url, trigger):
    """Even through an INSTEAD OF trigger: SQLite does not count the rows a trigger changes, so
    a saved row could never be confirmed (it used to fail with a 500)."""
    load(sqlite_url, "northwind")
    if trigger:
        engine = sync_engine(sqlite_url)
        with engine.begin() as conn:
            conn.exec_driver_sql(
                'CREATE TRIGGER "rename listed" INSTEAD OF UPDATE OF ProductName'
                ' ON "Current Product List" BEGIN UPDATE Products SET ProductName ='
                ' NEW.ProductName WHERE ProductID = OLD.ProductID; END')
        engine.dispose()
    products = 'SELECT "ProductID", "ProductName" FROM "Products" ORDER BY 1'
    before = fetch(sqlite_url, products)
    with TestClient(apps.northwind_sqlite(sqlite_url).app) as client:
        assert post(client, execute("Current Product List", "rename_listed", id=1,
                                    params={"name": "Tea"})) == (400, {"non_field_errors": [
            "Current Product List is a view the database cannot update: its rows cannot be "
            "changed (change the tables it reads from instead)"]})
    assert fetch(sqlite_url, products) == before


@pytest.mark.postgres
def test_northwind_table_without_a_primary_key(pg_url):
    load(pg_url, "northwind")
    regions = "SELECT state_abbr, state_region FROM us_states ORDER BY state_id"
    with TestClient(apps.northwind_postgresql(pg_url).app) as client:
        assert post(client, execute("us_states", "rename_region", ids=[1, 3],
                                    params={"region": "sun"})) == (200, {"result": ["AL", "AZ"]})
        assert post(client, execute("us_states", "rename_region", ids=[1, 3], inverseIds=True,
                                    params={"region": "ice"})) == (200, {"result": ["AK"]})
    assert fetch(pg_url, regions) == [("AL", "sun"), ("AK", "ice"), ("AZ", "sun")]


@pytest.mark.postgres
def test_blank_padded_character_keys_match_ids_without_the_blanks(pg_url):
    """A ``character(n)`` key shorter than ``n`` comes back padded (``'AB    '``); Jet Admin
    may send it trimmed, as PostgreSQL compares it."""
    engine = sync_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE codes (code character(6) PRIMARY KEY, label text)")
        conn.exec_driver_sql("INSERT INTO codes VALUES ('AB', 'short'), ('ABCDEF', 'full')")
    engine.dispose()
    flex = Flex(pg_url, token=apps.TOKEN)
    code_ref = flex.model("codes")

    @flex.action(model="codes", for_instance=True, bulk=True, writes=False)
    def labels(rows: list[Any]) -> list[str]:
        return [row.label for row in rows]

    @flex.action(writes=False)
    def label_of(code: code_ref) -> str:  # type: ignore[valid-type]
        return code.label  # type: ignore[attr-defined,no-any-return]

    with TestClient(flex.app) as client:
        assert post(client, execute("codes", "labels", ids=["AB", "ABCDEF"])) == (
            200, {"result": ["short", "full"]})
        assert post(client, execute("codes", "labels", ids=["AB", "AB    "])) == (
            200, {"result": ["short"]})
        assert post(client, execute("codes", "labels", ids=["AB"], inverseIds=True)) == (
            200, {"result": ["full"]})
        assert post(client, {"name": "execute_action",
                             "params": {"name": "label_of", "params": {"code": "AB"}}}) == (
            200, {"result": "short"})


@pytest.mark.postgres
def test_pagila_options_of_a_character_display_column_are_not_padded(pagila_url):
    """``language.name`` is ``character(20)``: PostgreSQL pads it, the option's name is not."""
    with TestClient(apps.pagila(pagila_url).app) as client:
        assert post(client, options("film", None, "language_id", "ENG")) == (
            200, [{"value": 1, "name": "English"}])
        assert post(client, options("film", None, "language_id", "")) == (
            200, [{"value": 1, "name": "English"}, {"value": 2, "name": "Italian"},
                  {"value": 3, "name": "Japanese"}])
