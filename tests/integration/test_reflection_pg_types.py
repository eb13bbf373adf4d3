"""PostgreSQL: column types parsed once per distinct type, with the same answers as before."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from flexorm.reflection import model_descriptions, reflect_sync
from flexorm.reflection.typemap import base_type
from flexorm.settings import Settings
from tests.conftest import sync_engine

SCHEMA = [
    "CREATE TYPE mood AS ENUM ('sad', 'ok')",
    "CREATE TABLE a (id INTEGER PRIMARY KEY, name VARCHAR(80), price NUMERIC(10, 2), "
    "m mood, tags TEXT[], doc XML)",
    "CREATE TABLE b (id INTEGER PRIMARY KEY, name VARCHAR(80), title VARCHAR(20), "
    "m mood, tags TEXT[], page XML)",
]


def _reflect(url: str) -> tuple[sa.Engine, dict[str, dict[str, sa.types.TypeEngine]]]:
    engine = sync_engine(url)
    with engine.begin() as conn:
        for statement in SCHEMA:
            conn.exec_driver_sql(statement)
    with engine.connect() as conn:
        schema = reflect_sync(conn, Settings())
    return engine, {c.name: {col.name: col.type for col in c.columns.values()}
                    for c in schema}


def test_equal_types_are_one_object_and_read_as_before(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="flexorm.reflection"):
        engine, types = _reflect(pg_url)
    a, b = types["a"], types["b"]
    assert a["name"] is b["name"]
    assert a["id"] is b["id"]
    assert (type(a["name"]), a["name"].length, b["title"].length) == (sa.VARCHAR, 80, 20)
    assert (a["price"].precision, a["price"].scale) == (10, 2)
    # what attaches itself to a table is never shared; an unknown type keeps its name
    assert isinstance(a["m"], postgresql.ENUM)
    assert a["m"] is not b["m"]
    assert a["m"].enums == ["sad", "ok"]
    assert isinstance(a["tags"], postgresql.ARRAY)
    assert a["tags"] is not b["tags"]
    assert (a["doc"].get_col_spec(), b["page"].get_col_spec()) == ("xml", "xml")
    assert not any("Did not recognize" in r.getMessage() for r in caplog.records)
    assert "_reflect_type" not in vars(engine.dialect)  # the dialect is as it was
    assert "bpchar" not in engine.dialect.ischema_names  # type: ignore[attr-defined]
    engine.dispose()


DOMAINS = [
    "CREATE DOMAIN money_t AS numeric(7, 2) CHECK (VALUE >= 0)",
    "CREATE DOMAIN code_t AS varchar(3)",
    "CREATE DOMAIN codes_t AS varchar(3)[]",
    "CREATE DOMAIN yes_no AS text CHECK (VALUE IN ('Y', 'N'))",
    "CREATE DOMAIN grade AS smallint CHECK (VALUE = 1 OR VALUE = 2 OR VALUE = 3)",
    "CREATE DOMAIN strict_grade AS grade",
    "CREATE DOMAIN year AS integer CHECK (VALUE >= 1901 AND VALUE <= 2155)",
    "CREATE TABLE film (id INTEGER PRIMARY KEY, amount money_t, code code_t, codes codes_t, "
    "featured yes_no, grade grade, strict strict_grade, released year, "
    "kind yes_no CHECK (kind IN ('N', 'Y')))",
]


@pytest.fixture
def domain_film(pg_url: str) -> Any:
    engine = sync_engine(pg_url)
    with engine.begin() as conn:
        for statement in DOMAINS:
            conn.exec_driver_sql(statement)
        schema = reflect_sync(conn, Settings())
    engine.dispose()
    return schema


def test_domains_keep_their_base_types_modifiers(domain_film: Any) -> None:
    """A domain over numeric(7, 2) was read as a plain numeric (SQLAlchemy's get_domains drops
    the modifiers, and the array of one over varchar(3)[]), so a parameter typed by it took
    0.123 and the database stored 0.12 while the answer showed 0.123."""
    types = {name: base_type(column.type) for name, column in domain_film["film"].columns.items()}
    assert (types["amount"].precision, types["amount"].scale) == (7, 2)
    assert types["code"].length == 3
    assert isinstance(types["codes"], postgresql.ARRAY)
    assert types["codes"].item_type.length == 3


def test_a_domain_checked_against_a_list_of_values_is_a_select(domain_film: Any) -> None:
    """A domain whose check is a list of values (``VALUE IN (...)``, equalities joined by
    ``OR``, through a domain over it) gives its column those options, as a column's own check
    list does: a select in Jet Admin, and a field error for another value, where it was a text
    or integer field that only the database refused."""
    film = domain_film["film"]
    options = {name: column.options for name, column in film.columns.items()}
    assert options == {"id": None, "amount": None, "code": None, "codes": None,
                       "featured": ("Y", "N"), "grade": (1, 2, 3), "strict": (1, 2, 3),
                       "released": None, "kind": ("N", "Y")}  # the column's own check first
    described = {f["name"]: f for f in model_descriptions(domain_film)[0]["fields"]}
    assert described["featured"]["field"] == "SelectField"
    assert described["grade"]["params"]["options"] == [
        {"name": "1", "value": 1}, {"name": "2", "value": 2}, {"name": "3", "value": 3}]
