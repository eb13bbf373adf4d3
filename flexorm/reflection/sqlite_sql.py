"""SQLite: every table's ``CREATE`` text in one query, shared with SQLAlchemy's inspector.

SQLAlchemy's SQLite dialect reads a table's SQL from ``sqlite_master`` once per table, and its
check-constraint reflection parses that text. For a large database that is a thousand tiny
queries. :func:`table_sql` reads the whole catalog at once; :func:`prime_inspector` hands the
texts to the inspector's cache so ``get_multi_columns`` and ``get_check_constraints`` do not ask
again (when the cache's layout is not the one expected, the inspector simply queries as before:
this only ever saves time), and :func:`may_have_checks` lets reflection skip tables whose SQL has
no ``CHECK`` at all.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection, Inspector

__all__ = ["may_have_checks", "prime_inspector", "table_sql"]


def table_sql(connection: Connection, schema: str | None) -> dict[str, str | None]:
    """The ``CREATE TABLE``/``CREATE VIEW`` text of every table and view, by name."""
    quote = connection.dialect.identifier_preparer.quote_identifier
    prefix = f"{quote(schema)}." if schema else ""
    sources = [f"SELECT name, sql, type FROM {prefix}sqlite_master"]  # noqa: S608 - quoted
    if not schema:  # temp tables share the main namespace, as in SQLAlchemy's own lookup
        sources.append("SELECT name, sql, type FROM sqlite_temp_master")
    union = " UNION ALL ".join(sources)
    query = f"SELECT name, sql FROM ({union}) WHERE type IN ('table', 'view')"  # noqa: S608
    texts: dict[str, str | None] = {}
    for name, sql in connection.exec_driver_sql(query):
        texts.setdefault(name, sql)  # main before temp, like SQLAlchemy
    return texts


def prime_inspector(inspector: Inspector, schema: str | None,
                    texts: dict[str, str | None]) -> None:
    """Put the texts where the SQLite dialect's ``_get_table_sql`` looks first.

    The key mirrors ``sqlalchemy.engine.reflection.cache`` for a call
    ``_get_table_sql(conn, table, schema=schema, info_cache=...)``, the one ``get_columns`` and
    ``get_check_constraints`` make. ``None`` values are not cached (SQLAlchemy would re-query).
    """
    cache = inspector.info_cache
    for name, sql in texts.items():
        if sql is not None:
            cache[("_get_table_sql", (name,), (("schema", schema),))] = sql


def may_have_checks(sql: str | None) -> bool:
    """Whether a table's SQL could declare a ``CHECK`` constraint (no ``check`` text: none)."""
    return sql is not None and "check" in sql.lower()
