"""Classic public sample databases, reproduced in DDL with a handful of rows each.

Each ``<sample>.<dialect>.sql`` keeps what matters to reflection in the original scripts
(types, keys, constraints, quoting, defaults, views); see the header of each file.
:func:`load` runs one into an empty database of the test's own.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import sync_engine

__all__ = ["SAMPLES", "load"]

_HERE = Path(__file__).parent

SAMPLES: dict[str, tuple[str, ...]] = {
    "chinook": ("sqlite", "postgresql"),
    "northwind": ("sqlite", "postgresql"),
    "pagila": ("postgresql",),
}
"""The dialects each sample exists in."""


def script(sample: str, dialect: str) -> str:
    """The SQL text of one sample for one dialect."""
    return (_HERE / f"{sample}.{dialect}.sql").read_text(encoding="utf-8")


def load(url: str, sample: str) -> None:
    """Create ``sample`` (``chinook``, ``northwind``, ``pagila``) in the database at ``url``.

    The script runs as the driver's own multi-statement call (``executescript`` on SQLite, one
    simple query on PostgreSQL), so it is exactly the text of the file: dollar-quoted function
    bodies, ``BEGIN``/``COMMIT`` and all.
    """
    engine = sync_engine(url)
    dialect = engine.dialect.name
    if dialect not in SAMPLES[sample]:
        raise ValueError(f"no {sample} sample for {dialect}")
    text = script(sample, dialect)
    try:
        raw = engine.raw_connection()
        try:
            driver = raw.driver_connection
            if dialect == "sqlite":
                driver.executescript(text)  # type: ignore[union-attr]
            else:
                driver.autocommit = True  # type: ignore[union-attr]
                driver.execute(text)  # type: ignore[union-attr]
        finally:
            raw.close()
    finally:
        engine.dispose()


def fetch(url: str, sql: str) -> list[tuple[object, ...]]:
    """Every row of a query, as plain tuples (for before/after comparisons)."""
    engine = sync_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.exec_driver_sql(sql)]
    finally:
        engine.dispose()


