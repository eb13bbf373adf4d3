"""Reflect a database into a :class:`SchemaInfo` with SQLAlchemy 2's batched Inspector API.

Per schema: list tables, views and materialized views (cheap), name and filter them, then one
``get_multi_*`` call each for columns, primary keys, foreign keys and check constraints: for the
whole schema when most of it is selected (what was not is dropped), else for the selected names
(naming a thousand tables costs SQLAlchemy more than reflecting a few extra ones). On PostgreSQL
the primary keys and value-list checks come from flexorm's own catalog queries
(:mod:`~flexorm.reflection.pg_catalog`), cheaper than the inspector's. Nothing is reflected table
by table and no ``MetaData`` is built.

PostgreSQL partitions are left out: the partitioned parent is the collection (rows of every
partition are reached through it), and listing each partition would only duplicate it.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Inspector
from sqlalchemy.engine.reflection import ObjectKind
from sqlalchemy.ext.asyncio import AsyncEngine

from flexorm._gc import gc_paused
from flexorm._url import redact_url
from flexorm.database import run_blocking
from flexorm.exceptions import ConfigurationError, DatabaseError
from flexorm.reflection import pg_catalog, pg_types, sqlite_sql
from flexorm.reflection.checks import parse_check_list
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

_CHUNK = 250
"""Tables per batch of inspector calls when progress is reported."""

_Key = tuple[str | None, str]


@dataclass
class _Table:
    """What the inspector said about one selected table or view."""

    schema: str | None
    table: str
    name: str
    is_view: bool
    comment: str | None = None
    columns: list[Any] = field(default_factory=list)
    primary_key: tuple[str, ...] = ()
    foreign_keys: list[Any] = field(default_factory=list)
    checks: list[Any] = field(default_factory=list)


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
    connection: Connection, settings: Settings, *, progress: Progress | None = None
) -> SchemaInfo:
    """Reflect the database of a blocking connection (see :func:`reflect`)."""
    try:
        with _warnings_logged(), gc_paused(), contextlib.ExitStack() as stack:
            if connection.dialect.name == "postgresql":
                pg_catalog.name_missing_types(connection.dialect)
                stack.enter_context(pg_types.types_shared(connection.dialect))
            inspector = sa.inspect(connection)
            default_schema = inspector.default_schema_name
            listed = [
                _list_schema(inspector, connection, schema, settings)
                for schema in _schemas(settings.schemas, default_schema)
            ]
            total = sum(len(selected) for selected, _ in listed)
            tables: list[_Table] = []
            if progress is not None:
                progress(0, total)
            for selected, everything in listed:
                tables.extend(_reflect_schema(inspector, connection, selected, everything, progress,
                                              len(tables), total))
    except sa.exc.DBAPIError as exc:
        raise DatabaseError(_one_line(exc, redact_url(connection.engine.url))) from exc
    with gc_paused():
        schema = _build(connection.dialect.name, default_schema, tables)
    _log_unknown_types(schema)
    return schema


def _one_line(exc: sa.exc.DBAPIError, url: str) -> str:
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
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


def _optional(call: Callable[[], Any], empty: Any) -> Any:
    try:
        return call()
    except NotImplementedError:
        return empty


def _list_schema(
    inspector: Inspector, connection: Connection, schema: str | None, settings: Settings
) -> tuple[list[_Table], bool]:
    """The selected tables and views of a schema, and whether to reflect the whole schema
    (and drop what was not selected) rather than ask for the selected names."""
    objects: dict[str, tuple[bool, str | None]]
    if connection.dialect.name == "postgresql":
        objects = pg_catalog.list_relations(connection, schema)
    else:
        objects = dict.fromkeys(inspector.get_table_names(schema), (False, None))
        objects.update((name, (True, None)) for name in inspector.get_view_names(schema))
        objects.update(
            (name, (True, None))
            for name in _optional(partial(inspector.get_materialized_view_names, schema), [])
        )
    selected = []
    for table, (is_view, comment) in objects.items():
        name = collection_name(schema, table, settings.rename)
        if is_selected(name, settings.include, settings.exclude):
            selected.append(_Table(schema, table, name, is_view, comment))
    # Naming the selected tables costs more than reflecting a few extra ones: SQLAlchemy
    # renders every name into each of its queries. Only a small selection is named.
    return selected, len(selected) * 2 > len(objects)


def _reflect_schema(
    inspector: Inspector,
    connection: Connection,
    selected: list[_Table],
    everything: bool,
    progress: Progress | None,
    done: int,
    total: int,
) -> list[_Table]:
    """Fill in the selected tables of one schema with batched inspector calls."""
    if not selected:
        return []
    sqlite_texts: dict[str, str | None] | None = None
    if inspector.dialect.name == "sqlite":
        sqlite_texts = sqlite_sql.table_sql(connection, selected[0].schema)
        sqlite_sql.prime_inspector(inspector, selected[0].schema, sqlite_texts)
    pg_checks: dict[str, list[str]] | None = None
    pg_keys: dict[str, tuple[str, ...]] | None = None
    if inspector.dialect.name == "postgresql":
        pg_checks = pg_catalog.single_column_checks(connection, selected[0].schema)
        pg_keys = pg_catalog.primary_keys(connection, selected[0].schema)
    chunks = [selected]
    if progress is not None and len(selected) > _CHUNK:
        chunks = [selected[i:i + _CHUNK] for i in range(0, len(selected), _CHUNK)]
    for chunk in chunks:
        by_key: dict[_Key, _Table] = {(t.schema, t.table): t for t in chunk}
        options: dict[str, Any] = {
            "schema": chunk[0].schema,
            "kind": ObjectKind.ANY,
            # None for the whole schema; never an empty list (which means "everything" too)
            "filter_names": None if everything and len(chunks) == 1 else [
                t.table for t in chunk
            ],
        }
        for key, columns in inspector.get_multi_columns(**options).items():
            if key in by_key:
                by_key[key].columns = list(columns)
        if pg_keys is not None:
            for table in chunk:
                table.primary_key = pg_keys.get(table.table, ())
        else:
            for key, pk in inspector.get_multi_pk_constraint(**options).items():
                if key in by_key:
                    by_key[key].primary_key = tuple(pk.get("constrained_columns") or ())
        for key, fks in inspector.get_multi_foreign_keys(**options).items():
            if key in by_key:
                by_key[key].foreign_keys = list(fks)
        # PostgreSQL's table comments came with the listing
        if inspector.dialect.name != "postgresql" and inspector.dialect.supports_comments:
            comments = _optional(partial(inspector.get_multi_table_comment, **options), {})
            for key, comment in comments.items():
                if key in by_key:
                    by_key[key].comment = comment.get("text")
        if sqlite_texts is not None:
            _sqlite_checks(inspector, chunk, sqlite_texts)
        elif pg_checks is not None:
            for table in chunk:
                table.checks = [{"sqltext": text} for text in pg_checks.get(table.table, ())]
        else:
            checks = _optional(partial(inspector.get_multi_check_constraints, **options), {})
            for key, constraints in checks.items():
                if key in by_key:
                    by_key[key].checks = list(constraints)
        done += len(chunk)
        if progress is not None:
            progress(done, total)
    return selected


def _sqlite_checks(inspector: Inspector, chunk: list[_Table],
                   texts: dict[str, str | None]) -> None:
    """SQLite's checks, asked only of tables whose SQL mentions one (parsed by SQLAlchemy)."""
    for table in chunk:
        if not table.is_view and sqlite_sql.may_have_checks(texts.get(table.table)):
            table.checks = list(inspector.get_check_constraints(table.table, table.schema))


def _is_autoincrement(column: Any, table: _Table, sqlite: bool) -> bool:
    if column.get("autoincrement") is True or column.get("identity"):
        return True
    default = column.get("default")
    if isinstance(default, str) and default.strip().lower().startswith("nextval("):
        return True
    # SQLite: a single-column INTEGER PRIMARY KEY is the rowid, filled in when not given
    return (sqlite and table.primary_key == (column["name"],)
            and type(column["type"]) is sa.INTEGER)


def _check_options(table: _Table) -> dict[str, tuple[Any, ...]]:
    options: dict[str, tuple[Any, ...]] = {}
    for check in table.checks:
        parsed = parse_check_list(str(check.get("sqltext") or ""))
        if parsed is not None:
            options.setdefault(parsed.column, parsed.values)
    return options


def _columns(table: _Table, dialect: str,
             foreign_keys: dict[str, ForeignKeyInfo]) -> dict[str, ColumnInfo]:
    # Called for every column of the database: kept lean (positional ColumnInfo arguments,
    # in field order; lookups hoisted).
    from_checks = _check_options(table) if table.checks else {}
    sqlite = dialect == "sqlite"
    primary_key = table.primary_key
    columns: dict[str, ColumnInfo] = {}
    for column in table.columns:
        name = column["name"]
        type_ = column["type"]
        enum = base_type(type_)
        autoincrement = _is_autoincrement(column, table, sqlite)
        options = (tuple(enum.enums) if isinstance(enum, sa.Enum) and enum.enums
                   else from_checks.get(name))
        default = column.get("default")
        columns[name] = ColumnInfo(
            name,
            type_,
            bool(column.get("nullable", True)) and not (autoincrement and sqlite),
            name in primary_key,
            autoincrement,
            str(default) if default is not None else None,
            "computed" in column,
            column.get("comment"),
            options,
            foreign_keys.get(name),
        )
    return columns


def _build(dialect: str, default_schema: str | None, tables: list[_Table]) -> SchemaInfo:
    by_key: dict[_Key, _Table] = {}
    names: dict[str, _Table] = {}
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
            target_schema = fk.get("referred_schema")
            if target_schema == default_schema:
                target_schema = None
            target = by_key.get((target_schema, fk["referred_table"]))
            if target is None:  # a table that is not reflected: no relation to show
                continue
            local = tuple(fk["constrained_columns"])
            remote = tuple(fk["referred_columns"])
            info = ForeignKeyInfo(
                name=fk.get("name"),
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
    columns = {key: _columns(table, dialect, column_fks[key]) for key, table in by_key.items()}

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
        )
    return SchemaInfo(dialect=dialect, default_schema=default_schema, collections=collections)


def _relation_names(table: _Table, target: _Table, local: str, remote: str) -> tuple[str, str]:
    """The names of a foreign key's two relations, as the reference bridge gives them (Jet Admin
    keeps them in its own settings): ``<column>__to__<target table>__<target column>`` for the
    many-to-one side, ``<table>__<column>__to__<target column>`` for the one-to-many side, with
    ``_relation`` appended to a name that is also a column of the referencing table. Table names
    here are the database's, without a schema, whatever the collection is called."""
    taken = {column["name"] for column in table.columns}
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
