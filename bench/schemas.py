"""Generated schemas: N tables of mixed types with foreign keys and CHECK lists, on any URL.

Table ``t{i}`` has an integer key, text, a CHECK-listed status (values differ per table), a
numeric, a timestamp, a boolean and a foreign key to the previous table; every fifth table has a
second foreign key further back. ``bench_orders`` holds rows for the bulk-action benchmark.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator

import sqlalchemy as sa

ORDERS = "bench_orders"


def ddl(tables: int) -> Iterator[str]:
    for i in range(tables):
        extra = ""
        if i:
            extra += f", parent_id INTEGER REFERENCES t{i - 1} (id)"
        if i >= 5 and i % 5 == 0:
            extra += f", origin_id INTEGER REFERENCES t{i // 2} (id)"
        states = ", ".join(f"'s{i % 13}_{k}'" for k in range(2 + i % 4))
        yield (
            f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, name VARCHAR(80) NOT NULL,"
            f" status VARCHAR(12) CHECK (status IN ({states})),"
            f" amount NUMERIC(10, 2) CHECK (amount >= 0), created TIMESTAMP, note TEXT,"
            f" flag BOOLEAN NOT NULL DEFAULT FALSE{extra})"
        )
    yield (f"CREATE TABLE {ORDERS} (id INTEGER PRIMARY KEY, status VARCHAR(12) NOT NULL,"
           " amount NUMERIC(10, 2) NOT NULL, note TEXT)")


def upgrade(url: str) -> None:
    """``flexorm db upgrade``: flexorm's own tables (the journal), as a user sets them up once."""
    subprocess.run([sys.executable, "-c", "from flexorm.cli import main; main()", "db",
                    "upgrade", url], check=True, capture_output=True)


def create(url: str, tables: int, orders: int) -> None:
    """Create ``tables`` tables and ``orders`` rows of ``bench_orders`` at ``url``, and
    flexorm's own tables."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for statement in ddl(tables):
            conn.exec_driver_sql(statement)
        conn.execute(
            sa.text(f"INSERT INTO {ORDERS} (id, status, amount, note) "
                    "VALUES (:id, 'new', 10.5, 'n')"),
            [{"id": i} for i in range(1, orders + 1)],
        )
    engine.dispose()
    upgrade(url)


@contextlib.contextmanager
def postgres_databases(server_url: str, names: list[str]) -> Iterator[dict[str, str]]:
    """Fresh databases on a server, dropped afterwards: name -> URL."""
    admin = sa.create_engine(sa.make_url(server_url).set(drivername="postgresql+psycopg"),
                             isolation_level="AUTOCOMMIT")
    urls = {}
    with admin.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            urls[name] = sa.make_url(server_url).set(
                drivername="postgresql+psycopg", database=name
            ).render_as_string(hide_password=False)
    try:
        yield urls
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
