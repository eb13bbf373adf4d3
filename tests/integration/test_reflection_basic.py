"""reflect() on both dialects: collections, keys, foreign keys, relations, naming, filters."""

from __future__ import annotations

import asyncio
import socket

import pytest
import sqlalchemy as sa

from flexorm.actions.params.fields import param_field
from flexorm.database import Database
from flexorm.exceptions import DatabaseError
from flexorm.reflection import merge_models, reflect, reflect_sync
from flexorm.reflection.records import SchemaInfo
from flexorm.settings import Settings
from tests.conftest import sync_engine

SCHEMA = [
    "CREATE TABLE accounts (id {serial} PRIMARY KEY, name VARCHAR(80) NOT NULL, code VARCHAR(20)"
    " UNIQUE, status VARCHAR(10) NOT NULL DEFAULT 'new'"
    " CHECK (status IN ('new', 'active', 'closed')))",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES"
    " accounts (id), account_code VARCHAR(20) REFERENCES accounts (code), total NUMERIC(10, 2))",
    "CREATE TABLE audit_log (at VARCHAR(30), message TEXT)",
    "CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100",
]


def run_reflect(url: str, settings: Settings | None = None) -> SchemaInfo:
    engine = sync_engine(url)
    with engine.begin() as conn:
        serial = "SERIAL" if conn.dialect.name == "postgresql" else "INTEGER"
        for statement in SCHEMA:
            conn.exec_driver_sql(statement.replace("{serial}", serial))
    engine.dispose()

    async def go() -> SchemaInfo:
        database = Database.connect(url)
        try:
            return await reflect(database.engine, settings or Settings())
        finally:
            await database.dispose()

    return asyncio.run(go())


def test_collections_keys_and_views(db_url: str) -> None:
    schema = run_reflect(db_url)

    assert list(schema.collections) == ["accounts", "audit_log", "big_orders", "orders"]
    accounts = schema["accounts"]
    assert accounts.primary_key == ("id",)
    assert accounts.has_primary_key
    assert accounts.columns["id"].autoincrement
    assert accounts.columns["status"].options == ("new", "active", "closed")
    assert not accounts.is_view
    assert schema["big_orders"].is_view
    log = schema["audit_log"]
    assert (log.primary_key, log.has_primary_key, log.primary_key_auto) == (("at",), False, True)


def test_foreign_keys_and_relations(db_url: str) -> None:
    schema = run_reflect(db_url)

    orders = schema["orders"]
    by_column = {fk.columns: fk for fk in orders.foreign_keys}
    assert by_column[("account_id",)].target == "accounts"
    assert by_column[("account_id",)].target_is_primary_key
    assert by_column[("account_code",)].target_columns == ("code",)
    assert not by_column[("account_code",)].target_is_primary_key
    assert orders.columns["account_id"].foreign_key == by_column[("account_id",)]
    assert [(r.name, r.direction) for r in orders.relations] == [
        ("account_code__to__accounts__code", "MANYTOONE"),
        ("account_id__to__accounts__id", "MANYTOONE"),
    ]
    assert [(r.name, r.direction, r.local_field, r.related_model, r.related_field)
            for r in schema["accounts"].relations] == [
        ("orders__account_code__to__code", "ONETOMANY", "code", "orders", "account_code"),
        ("orders__account_id__to__id", "ONETOMANY", "id", "orders", "account_id"),
    ]


def test_include_exclude_and_rename(db_url: str) -> None:
    settings = Settings(include=("cli*", "ord*", "big_*"), exclude=("big_*",),
                        rename=lambda schema, table: "clients" if table == "accounts" else None)
    schema = run_reflect(db_url, settings)

    assert list(schema.collections) == ["clients", "orders"]
    assert schema["orders"].columns["account_id"].foreign_key.target == "clients"  # type: ignore[union-attr]


def test_foreign_key_to_a_filtered_out_table_is_a_plain_column(db_url: str) -> None:
    schema = run_reflect(db_url, Settings(exclude=("accounts",)))

    orders = schema["orders"]
    assert orders.columns["account_id"].foreign_key is None
    assert orders.foreign_keys == ()
    assert orders.relations == ()


def test_merge_models_and_param_field(db_url: str) -> None:
    schema = run_reflect(db_url)
    metadata = sa.MetaData()
    table = sa.Table(
        "accounts", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("status", sa.Enum("new", "active", "closed", "frozen", name="status")),
        sa.Column("name", sa.String(80), default="anonymous"),
    )
    merged = merge_models(schema, [table])

    status = merged["accounts"].columns["status"]
    assert status.options == ("new", "active", "closed", "frozen")
    assert merged["accounts"].columns["name"].has_default
    assert param_field(status).field == "SelectField"
    account = param_field(merged["orders"].columns["account_id"])
    assert (account.field, account.related_model, account.python_type) == (
        "ForeignKey", "accounts", int)
    assert account.params == {"related_model": {"model": "accounts"}}


def test_unreachable_server_is_a_database_error_without_password() -> None:
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://me:s3cret@127.0.0.1:{port}/nowhere?connect_timeout=2"

    async def go() -> None:
        database = Database.connect(url)
        try:
            await reflect(database.engine, Settings())
        finally:
            await database.dispose()

    with pytest.raises(DatabaseError, match="cannot reflect") as caught:
        asyncio.run(go())
    assert "s3cret" not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_progress_reports_every_collection(sqlite_url: str) -> None:
    engine = sync_engine(sqlite_url)
    with engine.begin() as conn:
        for i in range(300):  # more than one batch
            conn.exec_driver_sql(f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY)")
    calls: list[tuple[int, int]] = []
    with engine.connect() as conn:
        schema = reflect_sync(conn, Settings(exclude=("t1*",)),
                              progress=lambda done, total: calls.append((done, total)))
    engine.dispose()

    assert len(schema) == 300 - 111  # t1, t10-t19, t100-t199
    assert calls[0] == (0, 189)
    assert calls[-1] == (189, 189)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
