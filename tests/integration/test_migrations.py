"""flexorm's migrations on real SQLite, PostgreSQL and MariaDB databases full of user tables."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from flexorm.exceptions import DatabaseError, MigrationError
from flexorm.journal.tables import metadata as flexorm_metadata
from flexorm.migrations import current, downgrade, head, include_object, upgrade
from flexorm.migrations.filters import VERSION_TABLE
from flexorm.migrations.options import OPTIONS
from tests.conftest import run_statements, sync_engine

USER_SCHEMA = [
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(80) NOT NULL UNIQUE, "
    "note TEXT)",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL "
    "REFERENCES customers (id), total NUMERIC(10, 2), status VARCHAR(10) DEFAULT 'new' "
    "CHECK (status IN ('new', 'paid')))",
    "CREATE INDEX orders_by_status ON orders (status)",
    "CREATE VIEW paid_orders AS SELECT id, total FROM orders WHERE status = 'paid'",
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
    "INSERT INTO customers VALUES (1, 'a@example.com', 'first'), (2, 'b@example.com', NULL)",
    "INSERT INTO orders VALUES (10, 1, 12.50, 'paid'), (11, 2, 3.00, 'new')",
    "INSERT INTO alembic_version VALUES ('users_own_rev')",
]
USER_TABLES = ["alembic_version", "customers", "orders"]


@pytest.fixture
def user_db(any_url: str) -> str:
    run_statements(any_url, USER_SCHEMA)
    return any_url


def user_metadata() -> sa.MetaData:
    """The user's own models: the same tables as ``USER_SCHEMA``."""
    meta = sa.MetaData()
    sa.Table("customers", meta, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("email", sa.String(80), nullable=False, unique=True),
             sa.Column("note", sa.Text))
    sa.Table("orders", meta, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"),
                       nullable=False),
             sa.Column("total", sa.Numeric(10, 2)),
             sa.Column("status", sa.String(10), server_default="new"),
             sa.Index("orders_by_status", "status"))
    return meta


def dump(url: str) -> dict[str, Any]:
    """Everything about the user's tables and view: schema as the database reports it, rows."""
    engine = sync_engine(url)
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            schema: Any = conn.exec_driver_sql(
                "SELECT type, name, tbl_name, sql FROM sqlite_master "
                "WHERE name NOT LIKE 'flexorm_%' AND tbl_name NOT LIKE 'flexorm_%' "
                "ORDER BY name").all()
        else:
            inspector = sa.inspect(conn)
            schema = {
                name: (inspector.get_columns(name), inspector.get_pk_constraint(name),
                       inspector.get_foreign_keys(name), inspector.get_indexes(name),
                       inspector.get_unique_constraints(name),
                       inspector.get_check_constraints(name))
                for name in USER_TABLES
            }
            schema["paid_orders"] = inspector.get_view_definition("paid_orders")
        rows = {name: conn.exec_driver_sql(f"SELECT * FROM {name} ORDER BY 1").all()
                for name in [*USER_TABLES, "paid_orders"]}
    engine.dispose()
    return {"schema": repr(schema), "rows": rows}


def flexorm_tables(url: str) -> set[str]:
    engine = sync_engine(url)
    names = {n for n in sa.inspect(engine).get_table_names() if n.startswith("flexorm_")}
    engine.dispose()
    return names


def diff(url: str, target: sa.MetaData, **options: Any) -> list[Any]:
    engine = sync_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"target_metadata": target, **options})
        changes = compare_metadata(context, target)
    engine.dispose()
    return list(changes)


def test_upgrade_downgrade_upgrade_leaves_user_tables_untouched(user_db: str) -> None:
    before = dump(user_db)

    assert current(user_db) is None
    assert upgrade(user_db) == (None, head())
    assert flexorm_tables(user_db) == {"flexorm_action_runs", "flexorm_idempotency",
                                       VERSION_TABLE}
    assert current(user_db) == head()
    assert dump(user_db) == before

    assert downgrade(user_db, "base") == (head(), None)
    assert flexorm_tables(user_db) == {VERSION_TABLE}
    assert current(user_db) is None
    assert dump(user_db) == before

    assert upgrade(user_db) == (None, head())
    assert current(user_db) == head()
    assert dump(user_db) == before


def test_upgrade_is_idempotent_and_takes_async_urls(user_db: str) -> None:
    async_flavour = user_db.replace("sqlite://", "sqlite+aiosqlite://").replace(
        "postgresql://", "postgresql+psycopg_async://").replace("mysql://", "mysql+aiomysql://")
    upgrade(async_flavour)

    assert upgrade(user_db) == (head(), head())
    assert current(async_flavour) == head()


def test_flexorm_autogenerate_proposes_nothing_against_user_tables(user_db: str) -> None:
    upgrade(user_db)

    # the migration creates exactly the tables flexorm defines, and the env's filters hide
    # every user table (including the user's own alembic_version) from it
    assert diff(user_db, flexorm_metadata, **OPTIONS) == []


def test_flexorm_autogenerate_on_a_fresh_database_proposes_only_its_tables(user_db: str) -> None:
    changes = diff(user_db, flexorm_metadata, **OPTIONS)

    added = sorted(change[1].name for change in changes if change[0] == "add_table")
    assert added == ["flexorm_action_runs", "flexorm_idempotency"]
    assert all(change[0] in ("add_table", "add_index") for change in changes)


def test_users_autogenerate_with_include_object_keeps_flexorm_tables(user_db: str) -> None:
    upgrade(user_db)

    unfiltered = diff(user_db, user_metadata())
    assert {c[1].name for c in unfiltered if c[0] == "remove_table"} >= {
        "flexorm_action_runs", "flexorm_idempotency", VERSION_TABLE}

    filtered = diff(user_db, user_metadata(), include_object=include_object)
    assert [c for c in filtered if c[0] == "remove_table"] == [
        c for c in unfiltered
        if c[0] == "remove_table" and not c[1].name.startswith(("flexorm_", "procrastinate_"))
    ]
    assert not any("flexorm_" in repr(change) for change in filtered)
    assert not any("procrastinate_" in repr(change) for change in filtered)


def test_downgrade_to_an_unknown_revision_is_a_migration_error(user_db: str) -> None:
    upgrade(user_db)

    with pytest.raises(MigrationError, match="nosuchrev"):
        downgrade(user_db, "nosuchrev")
    assert current(user_db) == head()


def test_current_does_not_create_a_missing_sqlite_file(tmp_path: Any) -> None:
    path = tmp_path / "missing.db"
    with pytest.raises(DatabaseError, match="no SQLite database"):
        current(f"sqlite:///{path}")
    assert not path.exists()


def test_concurrent_upgrades_are_serialised(db_url: str) -> None:
    errors: list[BaseException] = []
    results: list[tuple[str | None, str | None]] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        barrier.wait()
        try:
            results.append(upgrade(db_url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(results, key=repr) == sorted([(None, head())] + [(head(), head())] * 3,
                                               key=repr)
    assert current(db_url) == head()
