"""PostgreSQL's own catalog queries answer what SQLAlchemy's inspector answers, faster."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine.reflection import ObjectKind

from flexorm.reflection import reflect_sync
from flexorm.reflection.dialects import TableFacts
from flexorm.reflection.dialects.postgresql import PostgreSQLReader
from flexorm.settings import Settings
from tests.conftest import sync_engine

SCHEMA = [
    "CREATE SCHEMA other",
    "CREATE TABLE lines (item INTEGER, position INTEGER, sku TEXT, "
    "kind TEXT CHECK (kind IN ('a', 'b')), qty INTEGER CHECK (qty > 0), "
    "PRIMARY KEY (position, item))",  # key order differs from column order
    "CREATE TABLE plain (n INTEGER)",
    "CREATE VIEW lines_view AS SELECT * FROM lines",
    'CREATE TABLE "Odd Name" ("Odd Col" INTEGER PRIMARY KEY)',
    "CREATE TABLE other.elsewhere (code TEXT PRIMARY KEY, flag TEXT)",
    "ALTER TABLE other.elsewhere ADD CONSTRAINT flag_yn CHECK (flag IN ('y', 'n')) NOT VALID",
]


def _read(conn: sa.Connection, schema: str | None) -> dict[str, TableFacts]:
    """Every relation of a schema, read whole by the PostgreSQL reader."""
    reader = PostgreSQLReader()
    tables = [TableFacts(schema, name, name, is_view, comment)
              for name, (is_view, comment) in reader.list_relations(conn, schema).items()]
    reader.read(conn, schema, tables, True, None)
    return {t.table: t for t in tables}


def primary_keys(conn: sa.Connection, schema: str | None) -> dict[str, tuple[str, ...]]:
    return {name: t.primary_key for name, t in _read(conn, schema).items() if t.primary_key}


def single_column_checks(conn: sa.Connection, schema: str | None) -> dict[str, list[str]]:
    return {name: t.checks for name, t in _read(conn, schema).items() if t.checks}


def _create(url: str) -> sa.Engine:
    engine = sync_engine(url)
    with engine.begin() as conn:
        for statement in SCHEMA:
            conn.exec_driver_sql(statement)
    return engine


def test_primary_keys_match_the_inspector(pg_url: str) -> None:
    engine = _create(pg_url)
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        for schema in (None, "other"):
            expected = {
                table: tuple(pk["constrained_columns"])
                for (_, table), pk in inspector.get_multi_pk_constraint(
                    schema=schema, kind=ObjectKind.ANY).items()
                if pk["constrained_columns"]
            }
            assert primary_keys(conn, schema) == expected
        assert primary_keys(conn, None)["lines"] == ("position", "item")
    engine.dispose()


def test_only_value_list_checks_are_read(pg_url: str) -> None:
    engine = _create(pg_url)
    with engine.connect() as conn:
        checks = single_column_checks(conn, None)
        other = single_column_checks(conn, "other")
        schema = reflect_sync(conn, Settings(schemas=("public", "other")))
    engine.dispose()
    assert list(checks) == ["lines"]  # qty > 0 is not a list, so it is not even decompiled
    (kind,) = checks["lines"]
    assert not kind.startswith("CHECK")
    assert list(other) == ["elsewhere"]  # NOT VALID: still the expression alone
    assert schema["lines"].columns["kind"].options == ("a", "b")
    assert schema["lines"].columns["qty"].options is None
    assert schema["other.elsewhere"].columns["flag"].options == ("y", "n")
    assert schema["lines"].primary_key == ("position", "item")
    assert schema["plain"].primary_key == ("n",)
    assert not schema["plain"].has_primary_key
