"""PostgreSQL: column types parsed once per distinct type, with the same answers as before."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from flexorm.reflection import reflect_sync
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
    # what attaches itself to a table is never shared; an unknown type warns for each column
    assert isinstance(a["m"], postgresql.ENUM)
    assert a["m"] is not b["m"]
    assert a["m"].enums == ["sad", "ok"]
    assert isinstance(a["tags"], postgresql.ARRAY)
    assert a["tags"] is not b["tags"]
    warned = {r.getMessage() for r in caplog.records if "Did not recognize" in r.getMessage()}
    assert warned == {"reflection: Did not recognize type 'xml' of column 'doc'",
                      "reflection: Did not recognize type 'xml' of column 'page'"}
    assert "_reflect_type" not in vars(engine.dialect)  # the dialect is as it was
    assert "bpchar" not in engine.dialect.ischema_names  # type: ignore[attr-defined]
    engine.dispose()
