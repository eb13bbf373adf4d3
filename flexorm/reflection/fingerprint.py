"""A cheap fingerprint of everything reflection reads, to tell an unchanged schema in one query.

SQLite: a hash of the ``sqlite_master`` rows of each reflected schema (every table, view, index and
trigger, with its SQL: any DDL changes them). PostgreSQL: one catalog query hashing, for the
reflected schemas, the relations, their columns (type, typmod, nullability, identity, generation),
defaults and constraints, triggers, comments, and the user-defined enums and domains with their
labels and base types. It runs in a few milliseconds at 1,000 tables.

Defaults and constraints are identified by their row's oid rather than by their expression text
(decompiling thousands of expressions would cost more than the fingerprint saves): PostgreSQL
cannot change a default's or a check's expression in place, ``SET DEFAULT`` and re-adding a check
write a new row with a new oid.

Other databases have no fingerprint: their schema is reflected at every start.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = ["fingerprint"]

_PG_FINGERPRINT = sa.text("""
WITH ns AS (
    SELECT oid, nspname FROM pg_catalog.pg_namespace
    WHERE nspname = ANY (CAST(:schemas AS text[]))
       OR (CAST(:default_schema AS boolean) AND nspname = ANY (current_schemas(false)))
), rel AS (
    SELECT c.oid, c.relname, c.relkind, c.relispartition, c.relpersistence, ns.nspname
    FROM pg_catalog.pg_class c JOIN ns ON ns.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
)
SELECT md5(concat_ws('|',
    array_to_string(current_schemas(false), ','),
    (SELECT string_agg(concat_ws(',', oid, nspname, relname, relkind, relispartition,
                                 relpersistence), ';' ORDER BY oid) FROM rel),
    (SELECT string_agg(concat_ws(',', d.objoid, d.objsubid, d.description),
                       ';' ORDER BY d.objoid, d.objsubid)
     FROM pg_catalog.pg_description d JOIN rel ON rel.oid = d.objoid
     WHERE d.classoid = 'pg_catalog.pg_class'::regclass),
    (SELECT string_agg(concat_ws(',', a.attrelid, a.attnum, a.attname, a.atttypid, a.atttypmod,
                                 a.attnotnull, a.attisdropped, a.attidentity, a.attgenerated,
                                 a.attcollation, d.oid),
                       ';' ORDER BY a.attrelid, a.attnum)
     FROM pg_catalog.pg_attribute a JOIN rel ON rel.oid = a.attrelid
     LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE a.attnum > 0),
    (SELECT string_agg(concat_ws(',', k.oid, k.conrelid, k.conname, k.contype, k.conkey,
                                 k.confrelid, k.confkey, k.convalidated),
                       ';' ORDER BY k.oid)
     FROM pg_catalog.pg_constraint k JOIN rel ON rel.oid = k.conrelid),
    (SELECT string_agg(concat_ws(',', tg.oid, tg.tgrelid, tg.tgtype), ';' ORDER BY tg.oid)
     FROM pg_catalog.pg_trigger tg JOIN rel ON rel.oid = tg.tgrelid
     WHERE NOT tg.tgisinternal),
    (SELECT string_agg(concat_ws(',', t.oid, t.typname, t.typtype, t.typbasetype,
                                 t.typtypmod, t.typnotnull, t.typnamespace),
                       ';' ORDER BY t.oid)
     FROM pg_catalog.pg_type t
     WHERE t.typtype IN ('e', 'd') AND t.typnamespace IN (
         SELECT oid FROM pg_catalog.pg_namespace
         WHERE nspname NOT IN ('pg_catalog', 'information_schema'))),
    (SELECT string_agg(concat_ws(',', e.enumtypid, e.enumsortorder, e.enumlabel),
                       ';' ORDER BY e.enumtypid, e.enumsortorder)
     FROM pg_catalog.pg_enum e),
    (SELECT string_agg(concat_ws(',', k.oid, k.conname), ';' ORDER BY k.oid)
     FROM pg_catalog.pg_constraint k WHERE k.contypid <> 0)
))
""")


def _sqlite(connection: Connection, schemas: Sequence[str]) -> str:
    digest = hashlib.sha256()
    quote = connection.dialect.identifier_preparer.quote_identifier
    for schema in schemas or [""]:
        prefix = f"{quote(schema)}." if schema else ""
        rows = connection.exec_driver_sql(
            f"SELECT type, name, tbl_name, sql FROM {prefix}sqlite_master "  # noqa: S608
            "ORDER BY type, name"
        )
        digest.update(repr((schema, rows.all())).encode())
    return digest.hexdigest()


def _postgresql(connection: Connection, schemas: Sequence[str]) -> str:
    value = connection.execute(
        _PG_FINGERPRINT, {"schemas": list(schemas), "default_schema": not schemas}
    ).scalar_one()
    return str(value)


def fingerprint(connection: Connection, schemas: Sequence[str]) -> str | None:
    """The schema fingerprint of the reflected schemas, ``None`` when the dialect has none.

    ``schemas`` are the reflection setting's (empty: the default schema, which on PostgreSQL
    stands for the schemas on the search path, as SQLAlchemy sees them).
    """
    dialect = connection.dialect.name
    if dialect == "sqlite":
        return "sqlite:" + _sqlite(connection, schemas)
    if dialect == "postgresql":
        return "postgresql:" + _postgresql(connection, schemas)
    return None
