"""Each dialect's catalog reader gives the very facts SQLAlchemy's inspector gives.

Every schema the tests build (the public samples, the edge cases, a generated one) is reflected
twice: by the dialect's own reader and by SQLAlchemy's batched inspector (with the dialect's own
rules, such as SQLite's rowid key, applied alike). The records must agree on every collection and
every column: name, type (its class and everything ``repr`` shows), nullability, keys, defaults,
comments, value lists, foreign keys and relations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bench.bigschema import ddl
from flexorm.reflection import reflect_sync
from flexorm.reflection.dialects import TableFacts, reader_for
from flexorm.reflection.dialects.base import Relations, Tick
from flexorm.reflection.dialects.generic import InspectorReader
from flexorm.reflection.dialects.sqlite import adjust_rowid, changes_rows
from flexorm.reflection.records import SchemaInfo
from flexorm.reflection.typemap import AsStored, MySQLTime, Spatial, Unrecognized
from flexorm.settings import Settings
from tests.conftest import run_statements, sync_engine
from tests.integration import (
    test_mariadb,
    test_reflection_edge_cases,
    test_reflection_pg_catalog,
    test_reflection_pg_types,
)
from tests.integration.sample_schemas import load

_PG_TRIGGERS = sa.text(
    # information_schema, asked table by table: a partitioned table's partitions count
    "SELECT EXISTS (SELECT 1 FROM information_schema.triggers t "
    "JOIN pg_catalog.pg_namespace n ON n.nspname = t.event_object_schema "
    "JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = t.event_object_table "
    "WHERE c.oid IN (SELECT relid FROM pg_catalog.pg_partition_tree(CAST(:rel AS regclass)) "
    "UNION SELECT CAST(:rel AS regclass)) "
    "AND t.action_orientation = 'ROW' AND t.event_manipulation IN ('INSERT', 'UPDATE'))")
_MYSQL_TRIGGERS = sa.text(
    "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = "
    "COALESCE(:schema, DATABASE()) AND EVENT_OBJECT_TABLE = :table "
    "AND EVENT_MANIPULATION IN ('INSERT', 'UPDATE')")


def _has_triggers(connection: Connection, table: TableFacts) -> bool:
    """Whether row triggers on INSERT or UPDATE may change ``table``'s rows, asked table by
    table (the inspector does not tell). On MySQL and MariaDB a column ``ON UPDATE
    CURRENT_TIMESTAMP`` counts as one: the inspector gives it in the column's default."""
    dialect = connection.dialect
    if dialect.name == "postgresql":
        quote = dialect.identifier_preparer.quote
        name = quote(table.table) if table.schema is None else \
            f"{quote(table.schema)}.{quote(table.table)}"
        return bool(connection.execute(_PG_TRIGGERS, {"rel": name}).scalar())
    if dialect.name in ("mysql", "mariadb"):
        if any(" ON UPDATE " in (column.default or "").upper() for column in table.columns):
            return True
        return bool(connection.execute(_MYSQL_TRIGGERS, {"schema": table.schema,
                                                         "table": table.table}).scalar())
    master = ("main" if table.schema is None
              else dialect.identifier_preparer.quote(table.schema)) + ".sqlite_master"
    rows = connection.exec_driver_sql(
        f"SELECT sql FROM {master} WHERE type = 'trigger' "
        "AND tbl_name = ? COLLATE NOCASE", (table.table,))
    return any(changes_rows(sql) for (sql,) in rows)


class _Reference(InspectorReader):
    """The inspector's facts, listed as the dialect's reader lists them (PostgreSQL leaves
    partitions out, which the inspector's listing has), and whether each table has row
    triggers, asked table by table."""

    def __init__(self, dialect: sa.Dialect,
                 adjust: Callable[[TableFacts], None] | None) -> None:
        super().__init__(adjust)
        self.own = reader_for(dialect)

    def list_relations(self, connection: Connection, schema: str | None) -> Relations:
        return self.own.list_relations(connection, schema)

    def read(self, connection: Connection, schema: str | None, tables: Sequence[TableFacts],
             everything: bool, tick: Tick | None) -> None:
        comments = {t.table: t.comment for t in tables}
        super().read(connection, schema, tables, everything, tick)
        for table in tables:  # PostgreSQL's listing has the comments
            table.comment = table.comment if table.comment is not None else comments[table.table]
            table.triggers = _has_triggers(connection, table)


def _facts(schema: SchemaInfo) -> dict[str, Any]:
    return {
        name: (replace(c, columns={}, _table_cache=[]), [
            (replace(col, type=sa.types.NULLTYPE), type(col.type), repr(col.type))
            for col in c.columns.values()])
        for name, c in schema.collections.items()
    }


def _known_differences(dialect: str, mine: Any, theirs: Any) -> Any:
    """The facts flexorm reads on purpose where SQLAlchemy's inspector does not: PostgreSQL's
    ``bpchar`` (``character`` without a length), which SQLAlchemy leaves unrecognised
    (``NullType``), is read as ``CHAR``, and a type it does not know at all as
    :class:`Unrecognized`, under its name; MariaDB's JSON, a ``LONGTEXT`` with a ``json_valid``
    check to SQLAlchemy, is read as ``JSON``; spatial columns, unrecognised by SQLAlchemy,
    are read as :class:`Spatial`; a MariaDB column's own ``CHECK`` value list (printed in the
    column's definition, where SQLAlchemy does not read it) gives the column its options;
    MySQL's ``DOUBLE`` and ``REAL`` are read as floats, not as ``Decimal``; MySQL's ``TIME``, of
    a table or a view, is read as the duration it holds (:class:`MySQLTime`), not as a time of
    day; a SQLite column whose values SQLAlchemy converts (a number, a date, JSON) keeps the
    inspector's type, read as stored where the conversion fails (:class:`AsStored`)."""
    def known(own: Any, other: Any) -> bool:
        if dialect == "sqlite" and own[1] is AsStored:
            return own == (other[0], AsStored, f"AsStored({other[2]})")
        if dialect == "mysql" and own[1] is MySQLTime:
            return own == (other[0], MySQLTime, other[2].replace("TIME(", "MySQLTime(", 1))
        if dialect == "mysql" and own[1] is other[1] and issubclass(own[1], sa.Float):
            shown = other[2].replace(", asdecimal=True", "").replace("asdecimal=True", "")
            return own == (other[0], other[1], shown)
        if dialect == "mysql" and own[0].options is not None and other[0].options is None:
            return own == (replace(other[0], options=own[0].options), *other[1:])
        if own[0] != other[0]:
            return False
        if dialect == "postgresql":
            return other[1] is sa.types.NullType and (
                own[1:] == (sa.CHAR, "CHAR()") or own[1] is Unrecognized)
        if dialect == "mysql" and own[1] is Spatial:
            return other[1] is sa.types.NullType
        return (dialect == "mysql" and own[2] == "JSON()"
                and other[2].startswith("LONGTEXT(charset='utf8mb4'"))

    collection, columns = theirs
    return collection, [own if known(own, other) else other
                        for own, other in zip(mine[1], columns, strict=False)]


def _compare(url: str, settings: Settings) -> SchemaInfo:
    engine = sync_engine(url)
    adjust = adjust_rowid if engine.dialect.name == "sqlite" else None
    try:
        with engine.connect() as conn:
            own = reflect_sync(conn, settings)
        with engine.connect() as conn:
            reference = reflect_sync(conn, settings, reader=_Reference(engine.dialect, adjust))
    finally:
        engine.dispose()
    assert type(reader_for(engine.dialect)) is not InspectorReader
    assert list(own.collections) == list(reference.collections)
    mine, theirs = _facts(own), _facts(reference)
    for name in mine:
        theirs[name] = _known_differences(engine.dialect.name, mine[name], theirs[name])
        assert mine[name] == theirs[name], name
    assert len(own) > 0
    return own


def _generated(dialect: str, tables: int = 80) -> list[str]:
    statements = list(ddl(tables, dialect))
    if dialect == "mysql":
        return ["SET foreign_key_checks = 0", *statements]
    return statements


@pytest.mark.parametrize("sample", ["chinook", "northwind"])
def test_sqlite_samples(sqlite_url: str, sample: str) -> None:
    load(sqlite_url, sample)
    _compare(sqlite_url, Settings())


def test_sqlite_edge_cases_and_a_generated_schema(sqlite_url: str) -> None:
    run_statements(sqlite_url, [
        *test_reflection_edge_cases.SQLITE_SCHEMA,
        *_generated("sqlite"),
        # named and unnamed, inline and table-level keys; computed columns; odd types
        "CREATE TABLE odd (a INTEGER, b TEXT, c INT GENERATED ALWAYS AS (a * 2) VIRTUAL, "
        "d VARCHAR(10, 20), e DOUBLE PRECISION, f NVARCHAR(5), g DECIMAL(8, 3), h FLOAT, "
        "CONSTRAINT odd_pk PRIMARY KEY (b, a), CONSTRAINT z_check CHECK (a > 0), "
        "CONSTRAINT a_check CHECK (b IN ('x', 'y')), "
        'CONSTRAINT "to t0" FOREIGN KEY (a) REFERENCES t0 (id), '
        "FOREIGN KEY (b, a) REFERENCES pair (note, a))",
        "CREATE TABLE odd_child (x INTEGER REFERENCES odd, y TEXT, z INTEGER, "
        "FOREIGN KEY (y, z) REFERENCES odd (b, a))",
        # triggers: on update (named in another case), on delete only (no row changed)
        "CREATE TRIGGER odd_touched AFTER UPDATE OF a ON ODD BEGIN "
        "UPDATE odd SET b = 'x' WHERE rowid = NEW.rowid; END",
        'CREATE TRIGGER "insert" BEFORE DELETE ON odd_child BEGIN SELECT 1; END',
    ])
    schema = _compare(sqlite_url, Settings())
    assert schema["odd"].primary_key == ("b", "a")
    assert [fk.name for fk in schema["odd"].foreign_keys] == ["to t0", None]
    assert [c.name for c in schema if c.triggers] == ["odd"]


def test_sqlite_a_few_named_tables(sqlite_url: str) -> None:
    run_statements(sqlite_url, _generated("sqlite", 40))
    schema = _compare(sqlite_url, Settings(include=["t1", "t2*"]))
    assert sorted(schema.collections) == sorted(["t1", "t2", *(f"t2{i}" for i in range(10))])


@pytest.mark.postgres
@pytest.mark.parametrize("sample", ["chinook", "northwind", "pagila"])
def test_postgresql_samples(pg_url: str, sample: str) -> None:
    load(pg_url, sample)
    _compare(pg_url, Settings())


@pytest.mark.postgres
def test_postgresql_edge_cases_and_a_generated_schema(pg_url: str) -> None:
    run_statements(pg_url, [
        *test_reflection_edge_cases.PG_SCHEMA,
        *[s.replace("SCHEMA other", "SCHEMA other2").replace("other.", "other2.")
          for s in test_reflection_pg_catalog.SCHEMA],
        *test_reflection_pg_types.SCHEMA[1:],
        *_generated("postgresql"),
        # row triggers on insert or update: the table's own, a partition's (its parent's
        # rows), an INSTEAD OF one on a view; a statement trigger and one on delete change none
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RETURN NEW; END $$",
        "CREATE TRIGGER touched BEFORE UPDATE ON t1 FOR EACH ROW EXECUTE FUNCTION touch()",
        "CREATE TABLE trig_readings (id INTEGER, at DATE NOT NULL) PARTITION BY RANGE (at)",
        "CREATE TABLE trig_readings_2024 PARTITION OF trig_readings "
        "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
        "CREATE TRIGGER touched BEFORE INSERT ON trig_readings_2024 "
        "FOR EACH ROW EXECUTE FUNCTION touch()",
        "CREATE VIEW t2_view AS SELECT * FROM t2",
        "CREATE TRIGGER touched INSTEAD OF UPDATE ON t2_view "
        "FOR EACH ROW EXECUTE FUNCTION touch()",
        "CREATE TRIGGER touched AFTER UPDATE ON t3 EXECUTE FUNCTION touch()",
        "CREATE TRIGGER touched BEFORE DELETE ON t4 FOR EACH ROW EXECUTE FUNCTION touch()",
    ])
    schema = _compare(pg_url, Settings())
    assert sorted(c.name for c in schema if c.triggers) == ["t1", "t2_view", "trig_readings"]
    _compare(pg_url, Settings(schemas=("public", "other", "other2")))
    _compare(pg_url, Settings(schemas=("other",)))
    _compare(pg_url, Settings(include=["t1", "t2*"]))


@pytest.mark.mariadb
def test_mariadb_schemas(mariadb_url: str) -> None:
    run_statements(mariadb_url, [
        *test_mariadb.SCHEMA,
        *_generated("mysql"),
        "CREATE TABLE odd (a INT UNSIGNED ZEROFILL, b VARCHAR(10) CHARACTER SET latin1 "
        "COLLATE latin1_bin COMMENT 'it''s', c TIMESTAMP(3) NULL DEFAULT NULL, d BIT(3), "
        "e POINT, f DOUBLE(8,2), g INT AS (a + 1) VIRTUAL, h TEXT DEFAULT 'x', "
        "i CHAR(2) CHARACTER SET utf8mb4 DEFAULT 'ab', j DECIMAL(5,0) DEFAULT 1.5, "
        "k DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), "
        "l FLOAT, m MEDIUMINT, n TINYINT(1) DEFAULT 1, o BINARY(4), p VARBINARY(5), "
        "q ENUM('a','b''c') DEFAULT 'a', r SET('x','', 'y'), "
        "s VARCHAR(5) CHECK (s IN ('p', 'q')), t TIME, u TIME(3), fa INT, fb INT, "
        "PRIMARY KEY (m, a), CONSTRAINT z_fk FOREIGN KEY (fa) REFERENCES t0 (id), "
        "CONSTRAINT a_fk FOREIGN KEY (fb) REFERENCES t1 (id), "
        "CONSTRAINT two CHECK (b IN ('u', 'v'))) COMMENT 'odd ones'",
        "CREATE VIEW customer_emails AS SELECT id, email, vip FROM customers",
        "CREATE VIEW odd_times AS SELECT m, t, u, f FROM odd",
        "CREATE TRIGGER t1_created BEFORE INSERT ON t1 FOR EACH ROW SET NEW.id = NEW.id",
        "CREATE TRIGGER t2_updated AFTER UPDATE ON t2 FOR EACH ROW SET @changed = 1",
        "CREATE TRIGGER t3_deleted BEFORE DELETE ON t3 FOR EACH ROW SET @deleted = 1",
    ])
    schema = _compare(mariadb_url, Settings())
    assert [type(schema[name].columns[column].type) for name, column in (
        ("odd", "t"), ("odd", "u"), ("odd_times", "t"), ("odd_times", "u"))] == [MySQLTime] * 4
    # a DOUBLE is read as a float, in a view as in a table
    assert [schema[name].columns["f"].type.asdecimal  # type: ignore[attr-defined]
            for name in ("odd", "odd_times")] == [False, False]
    # odd's column k is ON UPDATE CURRENT_TIMESTAMP(6)
    assert sorted(c.name for c in schema if c.triggers) == ["odd", "t1", "t2"]
    assert schema["odd"].columns["s"].options == ("p", "q")  # the column's own check
    assert schema["odd"].columns["b"].options == ("u", "v")  # the table's
    _compare(mariadb_url, Settings(include=["t1", "t2*"]))


@pytest.mark.postgres
def test_postgresql_schemas_read_at_once_keep_each_schema_apart(pg_url: str) -> None:
    """Every schema is read by the same queries: a table lands in each schema reflected that
    has it, with its own columns, keys and references, and in the default schema too when the
    search path shows it there, as the inspector reports it schema by schema."""
    run_statements(pg_url, [
        "CREATE SCHEMA tenant_a", "CREATE SCHEMA tenant_b",
        *[statement
          for tenant, extra in (("tenant_a", ""), ("tenant_b", ", note text DEFAULT 'b'"))
          for statement in (
              f"CREATE TABLE {tenant}.customer (id serial PRIMARY KEY, name text NOT NULL{extra})",
              f"CREATE TABLE {tenant}.invoice (id serial PRIMARY KEY, "
              f"customer_id integer REFERENCES {tenant}.customer (id), "
              "status text CHECK (status IN ('open', 'paid')))")],
        "CREATE TABLE public.customer (id bigint PRIMARY KEY)",
    ])
    schema = _compare(pg_url, Settings(schemas=("public", "tenant_a", "tenant_b")))
    assert {"customer", "tenant_a.customer", "tenant_b.invoice"} <= set(schema.collections)
    assert "note" in schema["tenant_b.customer"].columns
    assert "note" not in schema["tenant_a.customer"].columns
    assert schema["tenant_b.invoice"].foreign_keys[0].target == "tenant_b.customer"
    # tenant_a on the search path: its invoice is also in the default schema, its customer is
    # not (public's customer comes first on the path)
    shown = pg_url + "?options=-csearch_path%3Dpublic%2Ctenant_a"
    schema = _compare(shown, Settings(schemas=("public", "tenant_a")))
    assert {"customer", "invoice", "tenant_a.invoice", "tenant_a.customer"} <= set(
        schema.collections)
    assert "name" not in schema["customer"].columns  # public's own table, not tenant_a's
    assert "name" in schema["tenant_a.customer"].columns
    assert schema["invoice"].foreign_keys[0].target == "tenant_a.customer"
