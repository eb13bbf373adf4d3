"""PostgreSQL: the listing, columns, keys and value-list checks of schemas, one query each.

Plain ``pg_catalog`` queries, each over every relation of every schema reflected at once (with a
schema per tenant, a query per schema would read the whole catalog once per schema): the listing
(tables,
views and materialized views with their comments, without partitions and temporary relations),
the columns (with defaults, identity, generation, collation and comments), primary keys, foreign
keys, the checks that could be a value list, and the relations with row triggers on ``INSERT``
or ``UPDATE``. A value list (``col IN (...)``) involves exactly
one column, so checks over several columns are not read, and it is stored as a
``ScalarArrayOpExpr``, so checks without one are not decompiled either.

A column's type is read from ``format_type`` as SQLAlchemy's PostgreSQL dialect reads it: the
dialect's public ``ischema_names`` and type constructors, enums and domains from the inspector's
public ``get_enums``/``get_domains``; each distinct type text is parsed once. ``bpchar`` (what
``character`` without a length is called in the catalog) is read as ``CHAR``, which SQLAlchemy
leaves unrecognised. A type SQLAlchemy does not know (``point``, ``xml``, a composite type) is
:class:`~flexorm.reflection.typemap.Unrecognized` under its own name (``point``, ``point[]``),
where SQLAlchemy's ``NullType`` would warn per column and be described as ``NULL``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.sql.base import SchemaEventTarget
from sqlalchemy.types import TypeEngine

from flexorm.reflection.dialects.base import (
    ColumnFacts,
    ForeignKeyFacts,
    Relations,
    SchemaPart,
    TableFacts,
    Tick,
    Ticker,
)
from flexorm.reflection.dialects.generic import InspectorReader
from flexorm.reflection.typemap import Unrecognized

__all__ = ["PostgreSQLReader"]

# SQLAlchemy's own filter for the default schema, "visible on the search path", or a named schema:
# every query answers both for each row, and the reader hands the row to each schema it is in
_IN_DEFAULT = ("(CAST(:default AS boolean) AND pg_catalog.pg_table_is_visible(c.oid) "
               "AND n.nspname != 'pg_catalog')")
_IN_SCHEMAS = f"({_IN_DEFAULT} OR n.nspname = ANY (CAST(:named AS name[])))"
_NAMED = " AND (CAST(:names AS text[]) IS NULL OR c.relname = ANY (CAST(:names AS text[])))"
_WHERE = f"n.nspname, {_IN_DEFAULT}, c.relname"
"""The first columns of every query: where the row belongs (its schema, whether the default
schema has it) and its relation."""

_RELATIONS = sa.text(
    f"SELECT {_WHERE}, c.relkind IN ('v', 'm'), d.description FROM pg_catalog.pg_class c "  # noqa: S608 - constant text
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_catalog.pg_description d ON d.objoid = c.oid "
    "AND d.classoid = 'pg_catalog.pg_class'::regclass AND d.objsubid = 0 "
    f"WHERE {_IN_SCHEMAS} "
    "AND c.relkind IN ('r', 'p', 'v', 'm') AND c.relpersistence != 't' "
    "AND NOT c.relispartition ORDER BY n.nspname, c.relname"
)

# what SQLAlchemy's get_multi_columns asks, as plain SQL: the default only where there is one,
# the collation only where it is not the type's own
_COLUMNS = sa.text(
    f"SELECT {_WHERE}, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "  # noqa: S608 - constant text
    "CASE WHEN a.atthasdef THEN (SELECT pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) "
    "FROM pg_catalog.pg_attrdef ad WHERE ad.adrelid = a.attrelid AND ad.adnum = a.attnum) END, "
    "a.attnotnull, d.description, a.attgenerated, a.attidentity != '', "
    "CASE WHEN a.attcollation != 0 AND a.attcollation != "
    "(SELECT t.typcollation FROM pg_catalog.pg_type t WHERE t.oid = a.atttypid) THEN "
    "(SELECT ARRAY[co.collname::text, CASE WHEN pg_catalog.pg_collation_is_visible(co.oid) "
    "THEN NULL ELSE cn.nspname::text END] FROM pg_catalog.pg_collation co "
    "JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace "
    "WHERE co.oid = a.attcollation) END "
    "FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
    "AND NOT a.attisdropped "
    "LEFT JOIN pg_catalog.pg_description d ON d.objoid = a.attrelid "
    "AND d.objsubid = a.attnum "
    f"WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND {_IN_SCHEMAS}{_NAMED} "
    "ORDER BY n.nspname, c.relname, a.attnum"
)

# a primary key's column names, in key order
_PRIMARY_KEYS = sa.text(
    f"SELECT {_WHERE}, ARRAY(SELECT a.attname "  # noqa: S608 - constant text
    "FROM unnest(con.conkey) WITH ORDINALITY AS k(num, pos) "
    "JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num "
    "ORDER BY k.pos) "
    "FROM pg_catalog.pg_constraint con "
    "JOIN pg_catalog.pg_class c ON c.oid = con.conrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    f"WHERE con.contype = 'p' AND {_IN_SCHEMAS}{_NAMED}"
)

# the referred schema as pg_get_constraintdef names it: only when not on the search path
_FOREIGN_KEYS = sa.text(
    f"SELECT {_WHERE}, con.conname, "  # noqa: S608 - constant text
    "ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(num, pos) "
    "JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num "
    "ORDER BY k.pos), "
    "CASE WHEN pg_catalog.pg_table_is_visible(rc.oid) THEN NULL ELSE rn.nspname END, "
    "rn.nspname, rc.relname, "
    "ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(num, pos) "
    "JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num "
    "ORDER BY k.pos) "
    "FROM pg_catalog.pg_constraint con "
    "JOIN pg_catalog.pg_class c ON c.oid = con.conrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid "
    "JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace "
    f"WHERE con.contype = 'f' AND {_IN_SCHEMAS}{_NAMED} "
    "ORDER BY n.nspname, c.relname, con.conname"
)

_CHECKS = sa.text(
    f"SELECT {_WHERE}, pg_catalog.pg_get_expr(con.conbin, con.conrelid, true) "  # noqa: S608 - constant text
    "FROM pg_catalog.pg_constraint con "
    "JOIN pg_catalog.pg_class c ON c.oid = con.conrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE con.contype = 'c' AND cardinality(con.conkey) = 1 "
    # an IN list or = ANY (ARRAY[...]) is a ScalarArrayOpExpr node, a chain of equalities an
    # OR node: decompile only those
    "AND (position('SCALARARRAYOPEXPR' in con.conbin::text) > 0 "
    "OR position('\\:boolop or' in con.conbin::text) > 0) "
    f"AND {_IN_SCHEMAS}{_NAMED} "
    "ORDER BY n.nspname, c.relname, con.conname"
)

# relations with row triggers firing on INSERT or UPDATE (tgtype bits: 1 a row trigger, 4 on
# INSERT, 16 on UPDATE), whether BEFORE (they change NEW), AFTER or INSTEAD OF (they may write
# the table themselves), enabled or not; internal ones (foreign keys') left out. A partition's
# trigger counts for its partitioned root, the collection its rows are written through.
_TRIGGERS = sa.text(
    f"SELECT DISTINCT {_WHERE} FROM pg_catalog.pg_trigger tg "  # noqa: S608 - constant text
    "JOIN pg_catalog.pg_class c ON c.oid = "
    "COALESCE(pg_catalog.pg_partition_root(tg.tgrelid), tg.tgrelid) "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE NOT tg.tgisinternal AND tg.tgtype & 1 = 1 AND tg.tgtype & 20 != 0 "
    f"AND {_IN_SCHEMAS}{_NAMED}"
)

# a domain's base type with its modifiers: SQLAlchemy's get_domains keeps the text before the
# first parenthesis only (a domain over numeric(7,2) would be a plain numeric, one over
# varchar(3)[] a varchar)
_DOMAIN_TYPES = sa.text(
    "SELECT n.nspname, t.typname, pg_catalog.format_type(t.typbasetype, t.typtypmod) "
    "FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace "
    "WHERE t.typtype = 'd'"
)

# -- types ---------------------------------------------------------------------------------------

_ARGS = re.compile(r"\((.*)\)")
_ARGS_DELIMITER = re.compile(r"\s*,\s*")
_ARRAY = re.compile(r"((?:\[\])*)$")
_NEXTVAL = re.compile(r"""(nextval\(')([^']+)('.*$)""")
_Key = tuple[str, ...]


def _dotted(value: str) -> _Key:
    """``schema.name`` or ``"Schema"."Name"`` as its parts, as SQLAlchemy splits a type name."""
    if '"' not in value:
        return tuple(value.split("."))
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    i = 0
    while i < len(value):
        char = value[i]
        if char == '"':
            if quoted and i + 1 < len(value) and value[i + 1] == '"':
                current.append('"')
                i += 1
            else:
                quoted = not quoted
        elif char == "." and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    parts.append("".join(current))
    return tuple(parts)


class _Types:
    """Column types from ``format_type`` texts, as SQLAlchemy's dialect builds them."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.names: dict[str, Any] = connection.dialect.ischema_names  # type: ignore[attr-defined]
        self.built: dict[tuple[str, str | None, str | None], TypeEngine[Any]] = {}
        self._enums: dict[_Key, Any] | None = None
        self._domains: dict[_Key, Any] | None = None

    @property
    def enums(self) -> dict[_Key, Any]:
        if self._enums is None:
            inspector: Any = sa.inspect(self.connection)
            self._enums = {((e["name"],) if e["visible"] else (e["schema"], e["name"])): e
                           for e in inspector.get_enums(schema="*")}
        return self._enums

    @property
    def domains(self) -> dict[_Key, Any]:
        if self._domains is None:
            inspector: Any = sa.inspect(self.connection)
            base_types = {(schema, name): base for schema, name, base
                          in self.connection.execute(_DOMAIN_TYPES)}
            self._domains = {
                ((d["name"],) if d["visible"] else (d["schema"], d["name"])):
                    {**d, "type": base_types.get((d["schema"], d["name"]), d["type"])}
                for d in inspector.get_domains(schema="*")}
        return self._domains

    def __call__(self, format_type: str | None, column: str, collation: str | None,
                 collation_schema: str | None) -> TypeEngine[Any]:
        key = (format_type or "", collation, collation_schema)
        found = self.built.get(key)
        if found is not None:
            return found
        type_ = self.parse(format_type, f"column '{column}'", collation, collation_schema)
        # shared by every column of that text, unless format_type gave none (its warning names
        # each column) or it attaches itself to a table (an enum, a domain, an array)
        if type_ is not sa.types.NULLTYPE and not isinstance(type_, SchemaEventTarget):
            self.built[key] = type_
        return type_

    def parse(self, format_type: str | None, description: str, collation: str | None,
              collation_schema: str | None = None) -> TypeEngine[Any]:
        """SQLAlchemy's reading of a ``format_type`` text."""
        if format_type is None:
            warnings.warn(f"PostgreSQL format_type() returned NULL for {description}",
                          sa.exc.SAWarning, stacklevel=2)
            return sa.types.NULLTYPE
        found_args = _ARGS.search(format_type)
        args_text: Sequence[str] = (_ARGS_DELIMITER.split(found_args.group(1))
                                    if found_args and found_args.group(1) else ())
        array = _ARRAY.search(format_type)
        dimensions = len(array.group(1)) // 2 if array else 0
        name = _ARRAY.sub("", _ARGS.sub("", format_type))
        cls: Any = self.names.get(name.lower())
        args: tuple[Any, ...] = ()
        kwargs: dict[str, Any] = {}
        if name == "numeric":
            if len(args_text) == 2:
                args = tuple(int(a) for a in args_text)
        elif name == "double precision":
            args = (53,)
        elif name == "integer":
            args = ()
        elif name in ("timestamp with time zone", "time with time zone"):
            kwargs["timezone"] = True
            if len(args_text) == 1:
                kwargs["precision"] = int(args_text[0])
        elif name in ("timestamp without time zone", "time without time zone", "time"):
            kwargs["timezone"] = False
            if len(args_text) == 1:
                kwargs["precision"] = int(args_text[0])
        elif name == "bit varying":
            kwargs["varying"] = True
            if len(args_text) == 1:
                args = (int(args_text[0]),)
        elif name == "interval" or name.startswith("interval "):
            cls = postgresql.INTERVAL
            if name.startswith("interval "):
                kwargs["fields"] = name[len("interval "):]
            if len(args_text) == 1:
                kwargs["precision"] = int(args_text[0])
        else:
            key = _dotted(name)
            if cls is None and key in self.enums:
                cls = postgresql.ENUM
                enum = self.enums[key]
                kwargs["name"] = enum["name"]
                if not enum["visible"]:
                    kwargs["schema"] = enum["schema"]
                args = tuple(enum["labels"])
            elif cls is None and key in self.domains:
                cls = postgresql.DOMAIN
                domain = self.domains[key]
                data_type = self.parse(domain["type"], f"DOMAIN '{domain['name']}'",
                                       domain["collation"], domain["collation_schema"])
                args = (domain["name"], data_type)
                kwargs.update(collation=domain["collation"],
                              collation_schema=domain["collation_schema"],
                              default=domain["default"], not_null=not domain["nullable"],
                              create_type=False)
                if domain["constraints"]:  # SQLAlchemy keeps the first
                    kwargs["constraint_name"] = domain["constraints"][0]["name"]
                    kwargs["check"] = domain["constraints"][0]["check"]
                if not domain["visible"]:
                    kwargs["schema"] = domain["schema"]
            else:
                if cls is None and name == "bpchar":
                    cls = postgresql.CHAR
                try:
                    args = (int(args_text[0]), *args_text[1:])
                except (ValueError, IndexError):
                    args = tuple(args_text)
        if not cls:  # named in the log line of types without a Jet field
            return Unrecognized(format_type)
        if collation is not None:
            kwargs["collation"] = collation
            if collation_schema is not None:
                kwargs["collation_schema"] = collation_schema
        type_: TypeEngine[Any] = cls(*args, **kwargs)
        if dimensions >= 1:
            type_ = postgresql.ARRAY(type_)
        return type_


# -- the reader ----------------------------------------------------------------------------------


class _Owners:
    """Which selected tables a catalog row is about: a row is in the default schema when the
    search path shows it, and in its own schema when that one was named; both may be reflected.
    """

    def __init__(self, parts: Sequence[SchemaPart]) -> None:
        self.by_schema = {schema: {t.table: t for t in tables} for schema, tables, _ in parts}
        self.default = self.by_schema.get(None)
        names = (None if all(everything for _, _, everything in parts)
                 else sorted({t.table for _, tables, _ in parts for t in tables}))
        self.params: dict[str, Any] = {
            "default": self.default is not None,
            "named": [schema for schema in self.by_schema if schema is not None],
            "names": names}
        """The query parameters: the schemas, and the selected names unless every schema is
        read whole."""

    def of(self, namespace: str, in_default: bool, relation: str) -> list[TableFacts]:
        homes = (self.default if in_default else None, self.by_schema.get(namespace))
        return [table for home in homes if home is not None
                if (table := home.get(relation)) is not None]


class PostgreSQLReader:
    """PostgreSQL's catalog, one query per kind of fact for all the schemas reflected."""

    def list_relations(self, connection: Connection, schema: str | None) -> Relations:
        return self.list_relations_of(connection, [schema])[0]

    def list_relations_of(self, connection: Connection,
                          schemas: Sequence[str | None]) -> list[Relations]:
        """Whether each relation is a view or materialized view, and its comment, by name, without
        partitions and temporary relations: SQLAlchemy's ``get_table_names`` +
        ``get_view_names`` + ``get_materialized_view_names`` + ``get_multi_table_comment`` minus
        partitions, in one query for every schema."""
        listed: dict[str | None, Relations] = {schema: {} for schema in schemas}
        params = {"default": None in listed, "named": [s for s in schemas if s is not None]}
        for namespace, in_default, name, is_view, comment in connection.execute(_RELATIONS,
                                                                                   params):
            for schema in ((None,) if in_default else ()) + (namespace,):
                if schema in listed and name not in listed[schema]:
                    listed[schema][name] = (bool(is_view), comment)
        return [listed[schema] for schema in schemas]

    def fetch_only(self, connection: Connection, schemas: Sequence[str | None]) -> int:
        """The catalog queries of whole schemas alone, their rows fetched and dropped (the floor
        the benchmarks set reflection against); the number of rows."""
        params = {"default": None in schemas, "named": [s for s in schemas if s is not None],
                  "names": None}
        return sum(len(connection.execute(query, params).all()) for query in (
            _RELATIONS, _COLUMNS, _PRIMARY_KEYS, _FOREIGN_KEYS, _CHECKS, _TRIGGERS))

    def read(self, connection: Connection, schema: str | None, tables: Sequence[TableFacts],
             everything: bool, tick: Tick | None) -> None:
        self.read_schemas(connection, [(schema, tables, everything)], tick)

    def read_schemas(self, connection: Connection, parts: Sequence[SchemaPart],
                     tick: Tick | None) -> None:
        if connection.dialect.server_version_info < (12,):  # type: ignore[operator]
            for schema, tables, everything in parts:
                InspectorReader().read(connection, schema, tables, everything, tick)
            return
        owners = _Owners(parts)
        params = owners.params
        self._columns(connection, params, owners, sum(len(t) for _, t, _ in parts), tick)
        for namespace, in_default, name, key in connection.execute(_PRIMARY_KEYS, params):
            for table in owners.of(namespace, in_default, name):
                table.primary_key = tuple(key)
        for namespace, in_default, name, *fk in connection.execute(_FOREIGN_KEYS, params):
            for table in owners.of(namespace, in_default, name):
                table.foreign_keys.append(_foreign_key(table.schema, *fk))
        for namespace, in_default, name, expression in connection.execute(_CHECKS, params):
            if expression:
                for table in owners.of(namespace, in_default, name):
                    table.checks.append(expression)
        for namespace, in_default, name in connection.execute(_TRIGGERS, params):
            for table in owners.of(namespace, in_default, name):
                table.triggers = True

    def _columns(self, connection: Connection, params: dict[str, Any], owners: _Owners,
                 total: int, tick: Tick | None) -> None:
        types = _Types(connection)
        current: list[TableFacts] = []
        current_key: tuple[str, str] | None = None
        ticker = Ticker(tick, total)
        for (namespace, in_default, table_name, name, format_type, default, not_null, comment,
             generated, identity, collation) in connection.execute(_COLUMNS, params):
            if (namespace, table_name) != current_key:
                current_key = (namespace, table_name)
                current = owners.of(namespace, in_default, table_name)
                for _ in current:
                    ticker.table_done()
            if not current:
                continue
            collation_name, collation_schema = collation or (None, None)
            type_ = types(format_type, name, collation_name, collation_schema)
            nullable = not not_null
            if isinstance(type_, postgresql.DOMAIN):
                if not default and type_.default is not None:
                    default = type_.default  # a domain's default, unless the column has one
                nullable = nullable and not type_.not_null
            computed = generated not in (None, "", b"\x00")
            if computed:
                default = None
            autoincrement = bool(identity) or (
                default is not None and default.strip().lower().startswith("nextval("))
            for table in current:
                column_default = default
                if default is not None and not computed and table.schema is not None:
                    found = _NEXTVAL.search(default)
                    if found is not None and "." not in found.group(2):
                        column_default = (f'{found.group(1)}"{table.schema}".{found.group(2)}'
                                          f"{found.group(3)}")
                table.columns.append(ColumnFacts(name, type_, nullable, column_default,
                                                 autoincrement, computed, comment))
        ticker.finish()


def _foreign_key(schema: str | None, name: str, columns: list[str], shown_schema: str | None,
                 target_schema: str, target: str, target_columns: list[str]) -> ForeignKeyFacts:
    """As SQLAlchemy reports it: the referred schema when the catalog names it (not on the
    search path), else the reflected schema when it is the target's, else ``None``."""
    referred = shown_schema
    if referred is None and schema is not None and schema == target_schema:
        referred = schema
    return ForeignKeyFacts(name, tuple(columns), referred, target, tuple(target_columns))
