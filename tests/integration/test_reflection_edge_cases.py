"""Schemas full of awkward cases, on each dialect, checked field by field as Jet Admin sees them."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from flexorm.database import Database
from flexorm.exceptions import ConfigurationError
from flexorm.reflection import model_descriptions, reflect
from flexorm.settings import Settings
from tests.conftest import NO_DATA_SOURCE, run_statements

PG_SCHEMA = [
    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
    "CREATE DOMAIN posint AS integer CHECK (VALUE > 0)",
    "CREATE SCHEMA other",
    """CREATE TABLE accounts (
        id serial PRIMARY KEY,
        name varchar(80) NOT NULL,
        code text UNIQUE,
        status varchar(10) NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'it''s', 'closed')),
        priority int CHECK (priority IN (1, 2, 3)),
        mood mood,
        created timestamptz NOT NULL DEFAULT now(),
        token uuid DEFAULT gen_random_uuid(),
        balance numeric(12, 2) DEFAULT 0,
        ratio numeric,
        flag boolean NOT NULL DEFAULT true,
        parent_id integer REFERENCES accounts (id))""",
    """CREATE TABLE other.things (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_code text REFERENCES accounts (code),
        tags text[], data jsonb, doc tsvector, x xml, span interval, price money,
        count posint, at time)""",
    """CREATE TABLE "Customer Orders" (
        "Order ID" serial PRIMARY KEY,
        "Account" integer REFERENCES accounts (id),
        "user" text, "select" int)""",
    "CREATE TABLE pair (a int, b int, note text, PRIMARY KEY (a, b))",
    "CREATE TABLE nokey (v text, w int)",
    "CREATE VIEW account_names AS SELECT id, name FROM accounts",
    "CREATE MATERIALIZED VIEW account_mv AS SELECT id, name FROM accounts",
    "CREATE TABLE measures (id int, at date NOT NULL, PRIMARY KEY (id, at))"
    " PARTITION BY RANGE (at)",
    "CREATE TABLE measures_2024 PARTITION OF measures"
    " FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
    # Jet Admin keeps display settings as JSON in comments; other comments are just comments
    """COMMENT ON TABLE pair IS '{"name": "Pair", "name_plural": "Pairs", "order_after": "nokey",
        "hidden": true}'""",
    """COMMENT ON COLUMN pair.note IS '{"field": "TextField", "name": "Note", "params":
        {"rows": 3}, "order_after": "b", "hidden": false}'""",
    "COMMENT ON TABLE nokey IS 'rows without a key'",
    """COMMENT ON COLUMN nokey.w IS '{"name": "W", "params": 5}'""",
    """COMMENT ON COLUMN nokey.v IS '["not", "an", "object"]'""",
]

SQLITE_SCHEMA = [
    """CREATE TABLE accounts (
        id INTEGER PRIMARY KEY,
        name VARCHAR(80) NOT NULL,
        code TEXT UNIQUE,
        [status] VARCHAR(10) NOT NULL DEFAULT 'new' CHECK ([status] in ('new','it''s', 'closed')),
        created DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        born DATE,
        flag BOOLEAN NOT NULL DEFAULT 1,
        balance NUMERIC(12, 2) DEFAULT 0.5,
        data JSON,
        blob BLOB,
        untyped,
        parent_id INTEGER REFERENCES accounts (id))""",
    """CREATE TABLE "Customer Orders" (
        "Order ID" INTEGER PRIMARY KEY,
        "Account Code" TEXT REFERENCES accounts (code),
        "select" INTEGER)""",
    "CREATE TABLE pair (a INTEGER, b INTEGER, note TEXT, PRIMARY KEY (a, b))",
    "CREATE TABLE nokey (v TEXT, w INTEGER)",
    "CREATE VIEW account_names AS SELECT id, name FROM accounts",
    # a column named like the relation its foreign key would get
    """CREATE TABLE clash (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES accounts (id),
        "parent__to__accounts__id" TEXT)""",
]


def describe(url: str, statements: list[str], settings: Settings) -> dict[str, dict[str, Any]]:
    run_statements(url, statements)

    async def go() -> list[dict[str, Any]]:
        database = Database.connect(url)
        try:
            return model_descriptions(await reflect(database.engine, settings))
        finally:
            await database.dispose()

    return {d["model"]: d for d in asyncio.run(go())}


def fields(description: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in description["fields"]}


def field(name: str, jet: str, db: str, *, null: bool = True, required: bool = False,
          **params: Any) -> dict[str, Any]:
    extra = {k: params.pop(k) for k in ("default_type", "default_value") if k in params}
    return {"name": name, "db_column": name, "field": jet, "db_field": db, "filterable": True,
            "null": null, "editable": True, "required": required, "params": params,
            **NO_DATA_SOURCE, **extra}


def options(*values: Any) -> list[dict[str, Any]]:
    return [{"name": str(v), "value": v} for v in values]


@pytest.fixture
def pg(pg_url: str) -> dict[str, dict[str, Any]]:
    return describe(pg_url, PG_SCHEMA, Settings(schemas=("public", "other")))


@pytest.fixture
def lite(sqlite_url: str) -> dict[str, dict[str, Any]]:
    return describe(sqlite_url, SQLITE_SCHEMA, Settings())


@pytest.mark.postgres
def test_a_schema_the_database_does_not_have_is_refused_naming_it(pg_url: str) -> None:
    """A typo in ``schemas`` started a server with no collections and no word why."""
    with pytest.raises(ConfigurationError, match="the database has no schema 'pubilc' "
                                                 r"\(it has .*'public'"):
        describe(pg_url, PG_SCHEMA, Settings(schemas=("public", "pubilc")))


@pytest.mark.postgres
def test_postgres_collections(pg: dict[str, dict[str, Any]]) -> None:
    # partitions are reached through their parent, which is the only collection
    assert list(pg) == ["Customer Orders", "account_mv", "account_names", "accounts",
                        "measures", "nokey", "other.things", "pair"]
    for name in ("account_mv", "account_names", "nokey"):
        assert (pg[name]["is_view"], pg[name]["primary_key_auto"]) == (name != "nokey", True)
    assert pg["nokey"]["primary_key_field"] == "v"
    assert (pg["pair"]["primary_key_field"], pg["pair"]["primary_key_auto"]) == ("a", False)
    assert pg["measures"]["primary_key_field"] == "id"
    assert pg["other.things"]["db_table"] == "other.things"
    assert pg["accounts"]["relation_overrides"] == []
    # the column that stands in for a missing key must be given, as the reference bridge says
    assert [(f["name"], f["required"]) for f in pg["nokey"]["fields"]] == [
        ("v", True), ("w", False)]


@pytest.mark.postgres
def test_postgres_data_source_comments(pg: dict[str, dict[str, Any]]) -> None:
    def data_source(description: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in description.items() if k.startswith("data_source_")}

    assert data_source(pg["pair"]) == {
        "data_source_name": "Pair", "data_source_name_plural": "Pairs",
        "data_source_order_after": "nokey", "data_source_hidden": True}
    assert data_source(fields(pg["pair"])["note"]) == {
        "data_source_field": "TextField", "data_source_name": "Note",
        "data_source_params": {"rows": 3}, "data_source_order_after": "b",
        "data_source_hidden": False}
    # a plain comment, a non-object JSON comment and non-object params say nothing
    assert set(data_source(pg["nokey"]).values()) == {None}
    assert data_source(fields(pg["nokey"])["v"]) == NO_DATA_SOURCE
    assert data_source(fields(pg["nokey"])["w"]) == {**NO_DATA_SOURCE, "data_source_name": "W"}
    assert data_source(fields(pg["pair"])["a"]) == NO_DATA_SOURCE


@pytest.mark.postgres
def test_postgres_fields(pg: dict[str, dict[str, Any]]) -> None:
    accounts = fields(pg["accounts"])
    # the sequence is named as the reference bridge names it: nextval's argument
    assert accounts["id"] == field("id", "IntegerField", "IntegerField", null=False,
                                   db_internal_type="INTEGER", default_type="sequence",
                                   default_value="'accounts_id_seq'::regclass")
    assert accounts["name"] == field("name", "CharField", "CharField", null=False, required=True,
                                     db_internal_type="VARCHAR(80)", length=80)
    assert accounts["status"] == field(
        "status", "SelectField", "CharField", null=False, db_internal_type="VARCHAR(10)",
        length=10, options=options("new", "it's", "closed"), default_type="value",
        default_value="new")
    assert accounts["priority"]["params"]["options"] == options(1, 2, 3)
    assert accounts["mood"] == field("mood", "SelectField", "SelectField", db_internal_type="mood",
                                     length=5, options=options("sad", "ok", "happy"))
    assert accounts["created"] == field(
        "created", "DateTimeField", "TimestampField", null=False,
        db_internal_type="TIMESTAMP WITH TIME ZONE", date=True, time=True,
        default_type="datetime_now")
    assert accounts["token"] == field("token", "UUIDField", "UUIDField", db_internal_type="UUID",
                                      default_type="uuid")
    assert accounts["balance"] == field("balance", "FloatField", "NumberField",
                                        db_internal_type="NUMERIC(12, 2)", default_type="value",
                                        default_value=0)
    assert accounts["ratio"] == field("ratio", "FloatField", "NumberField",
                                      db_internal_type="NUMERIC")
    assert accounts["flag"] == field("flag", "BooleanField", "BooleanField", null=False,
                                     db_internal_type="BOOLEAN", default_type="value",
                                     default_value=True)
    assert accounts["parent_id"] == field("parent_id", "ForeignKey", "IntegerField",
                                          db_internal_type="INTEGER",
                                          related_model={"model": "accounts"})

    things = fields(pg["other.things"])
    assert things["id"] == field("id", "IntegerField", "BigIntegerField", null=False,
                                 db_internal_type="BIGINT", default_type="sequence")
    assert things["account_code"] == field(
        "account_code", "ForeignKey", "TextField", db_internal_type="TEXT", length=None,
        related_model={"model": "accounts"}, custom_primary_key="code")
    assert things["tags"] == field("tags", "JSONField", "JSONField", db_internal_type="TEXT[]")
    assert things["data"] == field("data", "JSONField", "JSONField", db_internal_type="JSONB")
    assert things["count"] == field("count", "IntegerField", "IntegerField",
                                    db_internal_type="posint")
    for name, sql in [("doc", "TSVECTOR"), ("x", "xml"), ("span", "INTERVAL"),
                      ("price", "MONEY"), ("at", "TIME WITHOUT TIME ZONE")]:
        assert things[name] == field(name, "CharField", "CharField", db_internal_type=sql)

    orders = fields(pg["Customer Orders"])
    assert orders["Order ID"]["default_type"] == "sequence"
    assert orders["Account"]["params"]["related_model"] == {"model": "accounts"}
    assert set(orders) == {"Order ID", "Account", "user", "select"}


@pytest.mark.postgres
def test_postgres_relations(pg: dict[str, dict[str, Any]]) -> None:
    # named as the reference bridge names them: database table names, without the schema
    assert pg["accounts"]["relations"] == [
        {"name": "Customer Orders__Account__to__id", "direction": "ONETOMANY",
         "local_field": "id", "related_model": "Customer Orders", "related_field": "Account"},
        {"name": "accounts__parent_id__to__id", "direction": "ONETOMANY",
         "local_field": "id", "related_model": "accounts", "related_field": "parent_id"},
        {"name": "parent_id__to__accounts__id", "direction": "MANYTOONE",
         "local_field": "parent_id", "related_model": "accounts", "related_field": "id"},
        {"name": "things__account_code__to__code", "direction": "ONETOMANY",
         "local_field": "code", "related_model": "other.things", "related_field": "account_code"},
    ]


@pytest.mark.postgres
def test_postgres_unknown_types_log_one_line_each(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="flexorm.reflection"):
        describe(pg_url, PG_SCHEMA, Settings(schemas=("other",)))

    unmapped = [r.getMessage() for r in caplog.records if "unmapped" in r.getMessage()]
    assert unmapped == [
        "unmapped column type INTERVAL (other.things.span): shown as CharField",
        "unmapped column type MONEY (other.things.price): shown as CharField",
        "unmapped column type TIME WITHOUT TIME ZONE (other.things.at): shown as CharField",
        "unmapped column type TSVECTOR (other.things.doc): shown as CharField",
        # a type SQLAlchemy does not know by its name, not as "NULL" (its NullType's)
        "unmapped column type xml (other.things.x): shown as CharField",
    ]
    assert not any("Did not recognize" in r.getMessage() for r in caplog.records)


def test_sqlite_collections(lite: dict[str, dict[str, Any]]) -> None:
    assert list(lite) == ["Customer Orders", "account_names", "accounts", "clash", "nokey",
                          "pair"]
    assert (lite["account_names"]["is_view"], lite["account_names"]["primary_key_auto"]) == (
        True, True)
    assert (lite["nokey"]["primary_key_field"], lite["nokey"]["primary_key_auto"]) == ("v", True)
    assert (lite["pair"]["primary_key_field"], lite["pair"]["primary_key_auto"]) == ("a", False)


def test_sqlite_fields(lite: dict[str, dict[str, Any]]) -> None:
    accounts = fields(lite["accounts"])
    # SQLite's integer key is the rowid: a sequence without a name
    assert accounts["id"] == field("id", "IntegerField", "IntegerField", null=False,
                                   db_internal_type="INTEGER", default_type="sequence")
    assert accounts["status"] == field(
        "status", "SelectField", "CharField", null=False, db_internal_type="VARCHAR(10)",
        length=10, options=options("new", "it's", "closed"), default_type="value",
        default_value="new")
    assert accounts["created"] == field("created", "DateTimeField", "DateTimeField", null=False,
                                        db_internal_type="DATETIME", date=True, time=True,
                                        default_type="datetime_now")
    assert accounts["born"] == field("born", "DateField", "DateField", db_internal_type="DATE",
                                     date=True, time=False)
    assert accounts["flag"] == field("flag", "BooleanField", "BooleanField", null=False,
                                     db_internal_type="BOOLEAN", default_type="value",
                                     default_value=True)
    assert accounts["balance"] == field("balance", "FloatField", "NumberField",
                                        db_internal_type="NUMERIC(12, 2)", default_type="value",
                                        default_value=0.5)
    assert accounts["data"] == field("data", "JSONField", "JSONField", db_internal_type="JSON")
    assert accounts["blob"] == field("blob", "BinaryField", "BinaryField",
                                     db_internal_type="BLOB")
    assert accounts["untyped"] == field("untyped", "CharField", "CharField",
                                        db_internal_type="NULL")
    assert accounts["parent_id"]["field"] == "ForeignKey"

    orders = fields(lite["Customer Orders"])
    assert orders["Account Code"] == field(
        "Account Code", "ForeignKey", "TextField", db_internal_type="TEXT", length=None,
        related_model={"model": "accounts"}, custom_primary_key="code")
    assert orders["select"] == field("select", "IntegerField", "IntegerField",
                                     db_internal_type="INTEGER")
    assert [r["name"] for r in lite["Customer Orders"]["relations"]] == [
        "Account Code__to__accounts__code"]
    assert [(f["name"], f["required"]) for f in lite["nokey"]["fields"]] == [
        ("v", True), ("w", False)]


def test_sqlite_relation_named_like_a_column_gets_a_suffix(
        lite: dict[str, dict[str, Any]]) -> None:
    assert [r["name"] for r in lite["clash"]["relations"]] == [
        "parent__to__accounts__id_relation"]
    assert "clash__parent__to__id" in [r["name"] for r in lite["accounts"]["relations"]]
