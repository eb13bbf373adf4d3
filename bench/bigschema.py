"""Large realistic schemas: N tables of 12-26 columns with 0-3 foreign keys each, on any dialect.

The shape of an ERP or a multi-tenant database rather than of a demo: every table has an integer
key, a mix of the common column types (strings of several lengths, text, integers, numerics,
dates, timestamps, booleans, a CHECK value list on some), and up to three foreign keys to tables
created before it. The same seed gives the same schema, so a run can be repeated anywhere::

    python -m bench.bigschema sqlite:///big.db 10000
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator

import sqlalchemy as sa

__all__ = ["create", "ddl"]

_TYPES: dict[str, tuple[str, ...]] = {
    # generic SQL that SQLite, PostgreSQL and MariaDB all accept
    "sqlite": ("VARCHAR(40)", "VARCHAR(120)", "TEXT", "INTEGER", "BIGINT", "NUMERIC(12, 2)",
               "DATE", "TIMESTAMP", "BOOLEAN", "REAL", "CHAR(3)", "SMALLINT"),
    "postgresql": ("varchar(40)", "varchar(120)", "text", "integer", "bigint", "numeric(12, 2)",
                   "date", "timestamp", "boolean", "double precision", "char(3)", "smallint"),
    "mysql": ("VARCHAR(40)", "VARCHAR(120)", "TEXT", "INTEGER", "BIGINT", "NUMERIC(12, 2)",
              "DATE", "DATETIME", "BOOLEAN", "DOUBLE", "CHAR(3)", "SMALLINT"),
}
_DEFAULTS = {"INTEGER": "0", "BOOLEAN": "FALSE", "VARCHAR(40)": "'new'"}


def _table(i: int, rng: random.Random, types: tuple[str, ...], dialect: str) -> str:
    columns = ["id INTEGER PRIMARY KEY" if dialect != "postgresql" else "id serial PRIMARY KEY"]
    for k in range(rng.randint(12, 26) - 1):
        type_ = rng.choice(types)
        column = f"c{k} {type_}"
        if rng.random() < 0.3:
            column += " NOT NULL"
        default = _DEFAULTS.get(type_.upper())
        if default is not None and rng.random() < 0.2:
            column += f" DEFAULT {default}"
        if type_.upper() == "VARCHAR(40)" and rng.random() < 0.1:
            values = ", ".join(f"'v{i % 7}_{n}'" for n in range(2 + i % 3))
            column += f" CHECK (c{k} IN ({values}))"
        columns.append(column)
    for n in range(min(i, rng.choice((0, 1, 1, 2, 3)))):
        target = rng.randrange(i)
        columns.append(f"ref{n}_id INTEGER REFERENCES t{target} (id)")
    return f"CREATE TABLE t{i} ({', '.join(columns)})"


def ddl(tables: int, dialect: str, seed: int = 13) -> Iterator[str]:
    """The ``CREATE TABLE`` statements of a schema of ``tables`` tables, in dependency order."""
    rng = random.Random(seed)
    types = _TYPES.get(dialect, _TYPES["sqlite"])
    for i in range(tables):
        yield _table(i, rng, types, dialect)


_BATCH = 500
"""Statements per transaction (PostgreSQL locks every table it creates until the commit)."""


def create(url: str, tables: int, schema: str | None = None) -> None:
    """Create the tables at ``url`` (an empty database), in ``schema`` (PostgreSQL: created;
    ``None``: the default one)."""
    engine = sa.create_engine(url)
    dialect = engine.dialect.name
    statements = list(ddl(tables, dialect))
    if schema is not None:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    for start in range(0, len(statements), _BATCH):
        with engine.begin() as conn:
            if schema is not None:  # the tables and the ones they refer to
                conn.exec_driver_sql(f'SET LOCAL search_path TO "{schema}"')
            if dialect == "mysql":
                conn.exec_driver_sql("SET foreign_key_checks = 0")
            for statement in statements[start:start + _BATCH]:
                conn.exec_driver_sql(statement)
    engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m bench.bigschema URL TABLES")
    create(sys.argv[1], int(sys.argv[2]))
