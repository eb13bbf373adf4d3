"""Reflect a database into a :class:`SchemaInfo`, each dialect's catalog read by its reader.

Per schema: list tables, views and materialized views (one query), name and filter them, then
let the dialect's catalog reader (:mod:`flexorm.reflection.dialects`) read columns, primary keys,
foreign keys, checks, comments and row triggers in one or a few queries per kind of fact: for
the whole schema when most of it is selected (what was not is dropped), else for the selected
names. A reader that can (PostgreSQL's) lists and reads all the schemas at once, one query per
kind for all of them. Nothing is reflected table by table and no ``MetaData`` is built: one
small record per column is kept.

PostgreSQL partitions are left out: the partitioned parent is the collection (rows of every
partition are reached through it), and listing each partition would only duplicate it.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Callable, Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from flexorm._gc import gc_paused
from flexorm._url import redact_url
from flexorm.database import run_blocking
from flexorm.exceptions import ConfigurationError, DatabaseError, first_line
from flexorm.reflection.checks import parse_check_list
from flexorm.reflection.dialects import CatalogReader, TableFacts, reader_for
from flexorm.reflection.dialects.base import Relations, SchemaPart, SchemasReader, Tick
from flexorm.reflection.naming import collection_name, is_selected
from flexorm.reflection.records import (
    CollectionInfo,
    ColumnInfo,
    ForeignKeyInfo,
    RelationInfo,
    SchemaInfo,
)
from flexorm.reflection.typemap import base_type, db_internal_type, is_known_type
from flexorm.settings import Settings

__all__ = ["Progress", "reflect", "reflect_sync"]

logger = logging.getLogger("flexorm.reflection")

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` with counts of collections while reflecting."""

_Key = tuple[str | None, str]


async def reflect(
    engine: AsyncEngine, settings: Settings, *, progress: Progress | None = None
) -> SchemaInfo:
    """Reflect the database behind an async engine.

    Raises:
        DatabaseError: the database cannot be reached or reflected (the message has no password).
        ConfigurationError: two tables get the same collection name.

    Examples:
        >>> schema = await reflect(database.engine, Settings())  # doctest: +SKIP
        >>> schema["users"].primary_key_field  # doctest: +SKIP
        'id'
    """
    try:
        return await run_blocking(
            engine, lambda conn: reflect_sync(conn, settings, progress=progress))
    except sa.exc.DBAPIError as exc:
        raise DatabaseError(_one_line(exc, redact_url(engine.url))) from exc


def reflect_sync(
    connection: Connection,
    settings: Settings,
    *,
    progress: Progress | None = None,
    reader: CatalogReader | None = None,
) -> SchemaInfo:
    """Reflect the database of a blocking connection (see :func:`reflect`).

    ``reader`` replaces the dialect's catalog reader (the tests compare readers with it).
    """
    reader = reader or reader_for(connection.dialect)
    try:
        with _warnings_logged(), gc_paused():
            default_schema = sa.inspect(connection).default_schema_name
            schemas = _schemas(settings.schemas, default_schema)
            _require_schemas(connection, [name for name in schemas if name is not None])
            listings = (reader.list_relations_of(connection, schemas)
                        if isinstance(reader, SchemasReader)
                        else [reader.list_relations(connection, name) for name in schemas])
            parts: list[SchemaPart] = []
            for name, objects in zip(schemas, listings, strict=True):
                chosen, everything = _selected(name, objects, settings)
                if chosen:
                    parts.append((name, chosen, everything))
            tick = _counter(progress, sum(len(selected) for _, selected, _ in parts))
            if isinstance(reader, SchemasReader):
                reader.read_schemas(connection, parts, tick)
            else:
                for name, selected, everything in parts:
                    reader.read(connection, name, selected, everything, tick)
            tables = [table for _, selected, _ in parts for table in selected]
    except sa.exc.DBAPIError as exc:
        raise DatabaseError(_one_line(exc, redact_url(connection.engine.url))) from exc
    with gc_paused():
        schema = _build(connection.dialect.name, default_schema, tables)
    _log_unknown_types(schema)
    return schema


def _counter(progress: Progress | None, total: int) -> Tick | None:
    if progress is None:
        return None
    done = 0
    progress(0, total)

    def tick(count: int) -> None:
        nonlocal done
        done = min(total, done + count)
        progress(done, total)

    return tick


def _one_line(exc: sa.exc.DBAPIError, url: str) -> str:
    detail = first_line(exc.orig, type(exc).__name__)
    return f"cannot reflect {url}: {detail}"


@contextlib.contextmanager
def _warnings_logged() -> Iterator[None]:
    """Turn SQLAlchemy's reflection warnings ("Did not recognize type ...") into log lines."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", sa.exc.SAWarning)
        yield
    seen: set[str] = set()
    for warning in caught:
        message = str(warning.message)
        if issubclass(warning.category, sa.exc.SAWarning):
            if message not in seen:
                seen.add(message)
                logger.warning("reflection: %s", message)
        else:  # not ours to swallow
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)


def _schemas(requested: Sequence[str], default_schema: str | None) -> list[str | None]:
    """The schemas to reflect, ``None`` standing for the default one, without repeats."""
    schemas: list[str | None] = []
    wanted: Sequence[str | None] = requested or [None]
    for schema in wanted:
        normalized = None if schema == default_schema else schema
        if normalized not in schemas:
            schemas.append(normalized)
    return schemas


def _require_schemas(connection: Connection, named: Sequence[str]) -> None:
    """Refuse a schema the database does not have: reflecting it would find nothing, and the
    server would start with no collections and no word why (a typo in ``schemas``)."""
    if not named:
        return
    available = sa.inspect(connection).get_schema_names()
    missing = [name for name in named if name not in available]
    if missing:
        shown = ", ".join(repr(name) for name in available[:20])
        raise ConfigurationError(f"the database has no schema {missing[0]!r} (it has {shown})")


def _selected(schema: str | None, objects: Relations,
              settings: Settings) -> tuple[list[TableFacts], bool]:
    """The selected tables and views of a schema, and whether to reflect the whole schema
    (and drop what was not selected) rather than ask for the selected names."""
    selected = []
    for table, (is_view, comment) in objects.items():
        name = collection_name(schema, table, settings.rename)
        if is_selected(name, settings.include, settings.exclude):
            selected.append(TableFacts(schema, table, name, is_view, comment))
    # Naming the selected tables costs more than reflecting a few extra ones: a small
    # selection is named, a large one is read whole.
    return selected, len(selected) * 2 > len(objects)


def _check_options(table: TableFacts) -> dict[str, tuple[object, ...]]:
    options: dict[str, tuple[object, ...]] = {}
    for text in table.checks:
        parsed = parse_check_list(text)
        if parsed is not None:
            options.setdefault(parsed.column, parsed.values)
    return options


def _domain_options(type_: sa.types.TypeEngine[object]) -> tuple[object, ...] | None:
    """The values a PostgreSQL domain's check restricts it to (``CHECK (VALUE IN (...))``),
    through a domain over a domain."""
    while isinstance(type_, postgresql.DOMAIN):
        if type_.check is not None:
            parsed = parse_check_list(str(type_.check))
            if parsed is not None and parsed.column.upper() == "VALUE":
                return parsed.values
        type_ = type_.data_type
    return None


def _columns(table: TableFacts, foreign_keys: dict[str, ForeignKeyInfo]) -> dict[str, ColumnInfo]:
    # Called for every column of the database: kept lean (positional ColumnInfo arguments,
    # in field order; lookups hoisted).
    from_checks = _check_options(table) if table.checks else {}
    primary_key = table.primary_key
    columns: dict[str, ColumnInfo] = {}
    for name, type_, nullable, default, autoincrement, computed, comment in table.columns:
        enum = base_type(type_)
        options = (tuple(enum.enums) if isinstance(enum, sa.Enum) and enum.enums
                   else from_checks.get(name))
        if options is None and isinstance(type_, postgresql.DOMAIN):
            options = _domain_options(type_)
        columns[name] = ColumnInfo(
            name,
            type_,
            nullable,
            name in primary_key,
            autoincrement,
            default,
            computed,
            comment,
            options,
            foreign_keys.get(name),
        )
    return columns


def _build(dialect: str, default_schema: str | None, tables: list[TableFacts]) -> SchemaInfo:
    by_key: dict[_Key, TableFacts] = {}
    names: dict[str, TableFacts] = {}
    for table in tables:
        if table.name in names:
            other = names[table.name]
            raise ConfigurationError(
                f"tables {other.schema or default_schema}.{other.table} and "
                f"{table.schema or default_schema}.{table.table} are both named "
                f"{table.name!r}: give one another name with the rename hook"
            )
        names[table.name] = table
        by_key[(table.schema, table.table)] = table

    foreign_keys: dict[_Key, list[ForeignKeyInfo]] = {key: [] for key in by_key}
    column_fks: dict[_Key, dict[str, ForeignKeyInfo]] = {key: {} for key in by_key}
    relations: dict[_Key, list[RelationInfo]] = {key: [] for key in by_key}
    for key, table in by_key.items():
        for fk in table.foreign_keys:
            target_schema = fk.referred_schema
            if target_schema == default_schema:
                target_schema = None
            target = by_key.get((target_schema, fk.referred_table))
            if target is None:  # a table that is not reflected: no relation to show
                continue
            local = fk.columns
            remote = fk.referred_columns
            info = ForeignKeyInfo(
                name=fk.name,
                columns=local,
                target=target.name,
                target_columns=remote,
                target_is_primary_key=bool(target.primary_key) and remote == target.primary_key,
            )
            foreign_keys[key].append(info)
            if len(local) != 1:
                continue
            column_fks[key].setdefault(local[0], info)  # the first one per column
            many_to_one, one_to_many = _relation_names(table, target, local[0], remote[0])
            relations[key].append(RelationInfo(
                many_to_one, "MANYTOONE", local[0], target.name, remote[0]))
            relations[(target.schema, target.table)].append(RelationInfo(
                one_to_many, "ONETOMANY", remote[0], table.name, local[0]))
    columns = {key: _columns(table, column_fks[key]) for key, table in by_key.items()}

    collections: dict[str, CollectionInfo] = {}
    for key, table in sorted(by_key.items(), key=lambda item: item[1].name):
        table_columns = columns[key]
        if not table_columns:
            logger.warning("reflection: %s has no columns; left out", table.name)
            continue
        declared = table.primary_key
        primary_key = declared or (next(iter(table_columns)),)
        collections[table.name] = CollectionInfo(
            name=table.name,
            table=table.table,
            schema=table.schema,
            is_view=table.is_view,
            columns=table_columns,
            primary_key=primary_key,
            primary_key_auto=not declared or (
                len(declared) == 1 and table_columns[declared[0]].autoincrement),
            has_primary_key=bool(declared),
            foreign_keys=tuple(foreign_keys[key]),
            relations=tuple(sorted(relations[key], key=lambda r: r.name)),
            comment=table.comment,
            triggers=table.triggers,
        )
    return SchemaInfo(dialect=dialect, default_schema=default_schema, collections=collections)


def _relation_names(table: TableFacts, target: TableFacts, local: str,
                    remote: str) -> tuple[str, str]:
    """The names of a foreign key's two relations, as the reference bridge gives them (Jet Admin
    keeps them in its own settings): ``<column>__to__<target table>__<target column>`` for the
    many-to-one side, ``<table>__<column>__to__<target column>`` for the one-to-many side, with
    ``_relation`` appended to a name that is also a column of the referencing table. Table names
    here are the database's, without a schema, whatever the collection is called."""
    taken = {column.name for column in table.columns}
    names = (f"{local}__to__{target.table}__{remote}", f"{table.table}__{local}__to__{remote}")
    many_to_one, one_to_many = (f"{name}_relation" if name in taken else name for name in names)
    return many_to_one, one_to_many


def _log_unknown_types(schema: SchemaInfo) -> None:
    """One warning line per type that has no Jet field (they are shown as CharField)."""
    unknown: dict[str, list[str]] = {}
    for collection in schema:
        for column in collection.columns.values():
            if not is_known_type(column.type):
                unknown.setdefault(db_internal_type(column.type, schema.dialect), []).append(
                    f"{collection.name}.{column.name}")
    for type_name, where in sorted(unknown.items()):
        more = f" and {len(where) - 3} more" if len(where) > 3 else ""
        logger.warning("unmapped column type %s (%s%s): shown as CharField",
                       type_name, ", ".join(where[:3]), more)
