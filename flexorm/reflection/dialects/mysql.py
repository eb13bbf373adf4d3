"""MySQL and MariaDB: the columns, keys and checks of every table of a schema, one query each.

SQLAlchemy's MySQL dialect reads each table with its own ``SHOW CREATE TABLE`` and parses the
text; here ``information_schema`` answers for all tables at once (``TABLES``, ``COLUMNS``,
``KEY_COLUMN_USAGE``, ``CHECK_CONSTRAINTS``, and ``TRIGGERS`` for the tables whose rows triggers
may change). The facts are those the dialect's parse of
``SHOW CREATE TABLE`` gives: a column's type is read from ``COLUMN_TYPE`` with the dialect's
public ``ischema_names`` and type constructors, its character set and collation kept
only where ``SHOW CREATE TABLE`` would print them, its default as printed there. Views are read
by the inspector (SQLAlchemy describes them column by column; they are few). Some facts differ on
purpose: MariaDB keeps JSON as a ``LONGTEXT`` with a ``json_valid`` check, which SQLAlchemy reads
as text; here it is ``JSON``. Spatial columns, which SQLAlchemy does not recognise (a warning
per column), are :class:`~flexorm.reflection.typemap.Spatial`, named in one log line. And a
column's own ``CHECK`` (MariaDB prints it inside the column's definition, where SQLAlchemy does
not read it) counts as a table's does: ``status VARCHAR(10) CHECK (status IN ('on', 'off'))``
lists its values, as on PostgreSQL and SQLite. ``DOUBLE`` and ``REAL`` columns are read as
floats, as every other database's binary floats are (SQLAlchemy reads them as ``Decimal`` with
ten made-up places: ``2.5000000000``). ``TIME`` columns, of tables and views, are
:class:`~flexorm.reflection.typemap.MySQLTime`: durations from -838:59:59 to 838:59:59, read as
such (SQLAlchemy reads ``100:00:00`` as the time of day ``04:00:00``, dropping days and sign). A
check's string literals are handed on in standard SQL (quotes doubled, no backslash escapes, no
character set introducer), as the shared reading of value lists
(:mod:`flexorm.reflection.checks`) takes them. A view's columns are read the same way.

Verified against SQLAlchemy's own reflection on MariaDB; on MySQL 8 the defaults are quoted as its
``SHOW CREATE TABLE`` quotes them.
"""

from __future__ import annotations

import copy
import logging
import re
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.base import SchemaEventTarget
from sqlalchemy.types import TypeEngine

from flexorm.reflection.dialects.base import (
    ColumnFacts,
    ForeignKeyFacts,
    Relations,
    TableFacts,
    Tick,
    Ticker,
)
from flexorm.reflection.dialects.generic import InspectorReader
from flexorm.reflection.typemap import MySQLTime, Spatial

__all__ = ["MySQLReader"]

logger = logging.getLogger("flexorm.reflection")

_SPATIAL = frozenset({"geometry", "point", "linestring", "polygon", "multipoint",
                      "multilinestring", "multipolygon", "geometrycollection", "geomcollection"})

_SCHEMA = ":schema"  # a literal: MariaDB then opens only that schema's tables
_NAMED = " AND (:all_tables OR {column} IN :names)"

_TABLES = sa.text(
    "SELECT TABLE_NAME, TABLE_TYPE, TABLE_COMMENT, TABLE_COLLATION "  # noqa: S608 - quoted
    "FROM information_schema.TABLES "
    f"WHERE TABLE_SCHEMA = {_SCHEMA} AND TABLE_TYPE IN ('BASE TABLE', 'VIEW') "
    "ORDER BY TABLE_NAME"
)

_COLUMNS = (
    "SELECT c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE, c.COLUMN_DEFAULT, "  # noqa: S608 - constant text
    "c.EXTRA, c.CHARACTER_SET_NAME, c.COLLATION_NAME, c.COLUMN_COMMENT "
    # joined with TABLES, MariaDB takes thirty times as long: the table collations come with
    # the listing
    "FROM information_schema.COLUMNS c "
    f"WHERE c.TABLE_SCHEMA = {_SCHEMA}{_NAMED.format(column='c.TABLE_NAME')} "
    "ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION"
)

_KEYS = (
    "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_SCHEMA, "  # noqa: S608 - constant text
    "REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE "
    f"WHERE TABLE_SCHEMA = {_SCHEMA}{_NAMED.format(column='TABLE_NAME')} "
    "AND (CONSTRAINT_NAME = 'PRIMARY' OR REFERENCED_TABLE_NAME IS NOT NULL) "
    # SHOW CREATE TABLE lists foreign keys by name (InnoDB keeps them so)
    "ORDER BY TABLE_NAME, CAST(CONSTRAINT_NAME AS BINARY), ORDINAL_POSITION"
)

# a column's own check (LEVEL 'Column', named after the column) counts as a table's; its
# json_valid check says the column is MariaDB's JSON (a LONGTEXT so checked)
_MARIADB_CHECKS = (
    "SELECT TABLE_NAME, CHECK_CLAUSE, CONSTRAINT_NAME "  # noqa: S608 - constant text
    "FROM information_schema.CHECK_CONSTRAINTS "
    f"WHERE CONSTRAINT_SCHEMA = {_SCHEMA}{_NAMED.format(column='TABLE_NAME')}"
)
_MYSQL_CHECKS = (
    "SELECT t.TABLE_NAME, c.CHECK_CLAUSE, c.CONSTRAINT_NAME "  # noqa: S608 - constant text
    "FROM information_schema.TABLE_CONSTRAINTS t "
    "JOIN information_schema.CHECK_CONSTRAINTS c ON c.CONSTRAINT_SCHEMA = t.CONSTRAINT_SCHEMA "
    "AND c.CONSTRAINT_NAME = t.CONSTRAINT_NAME "
    f"WHERE t.CONSTRAINT_SCHEMA = {_SCHEMA}{_NAMED.format(column='t.TABLE_NAME')} "
    "AND t.CONSTRAINT_TYPE = 'CHECK'"
)

# tables with triggers on INSERT or UPDATE (all of MySQL's are row triggers): a BEFORE one sets
# NEW's columns; an AFTER one cannot write its own table, but counts as on the other databases.
# Seen only where the user has the TRIGGER privilege on the table. (A column ``ON UPDATE
# CURRENT_TIMESTAMP`` counts too: see the columns' reading.)
_TRIGGERS = (
    "SELECT DISTINCT EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS "  # noqa: S608 - constant text
    f"WHERE EVENT_OBJECT_SCHEMA = {_SCHEMA}{_NAMED.format(column='EVENT_OBJECT_TABLE')} "
    "AND EVENT_MANIPULATION IN ('INSERT', 'UPDATE')"
)

# SQLAlchemy's reading of a column type in SHOW CREATE TABLE
_COLUMN_TYPE = re.compile(
    r"(?P<coltype>\w+)(?:\((?P<arg>(?:\d+|\d+,\d+|(?:'(?:''|[^'])*',?)+))\))?"
    r"(?: +(?P<unsigned>UNSIGNED))?(?: +(?P<zerofill>ZEROFILL))?",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"'(?:''|[^'])*'")
_NUMBER = re.compile(r"\d+")
_ON_UPDATE = re.compile(r"on update (.+)", re.IGNORECASE)
_JSON_VALID = re.compile(r"json_valid\(`((?:``|[^`])+)`\)", re.IGNORECASE)
# in a check: a backquoted name (left as it is), or a string literal with its optional character
# set introducer (MySQL 8 prints _utf8mb4'on') and MySQL's backslash escapes
_CHECK_PART = re.compile(r"`(?:``|[^`])*`|(?<![\w$])(?:_[A-Za-z0-9]+)?'((?:[^'\\]|\\.|'')*)'",
                         re.DOTALL)
_STRING_ESCAPE = re.compile(r"\\(.)|''", re.DOTALL)
_ESCAPED = {"0": "\0", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a",
            "%": "\\%", "_": "\\_"}  # LIKE's escapes keep their backslash


def _unescape(match: re.Match[str]) -> str:
    escaped = match.group(1)
    return "'" if escaped is None else _ESCAPED.get(escaped, escaped)


def _standard_strings(clause: str) -> str:
    r"""A check's clause with its string literals in standard SQL.

    Examples:
        >>> print(_standard_strings(r"`it's` in ('it\'s',_utf8mb4'b\\s','''x''')"))
        `it's` in ('it''s','b\s','''x''')
    """
    def standard(match: re.Match[str]) -> str:
        body = match.group(1)
        if body is None:  # a backquoted name
            return match.group()
        return "'" + _STRING_ESCAPE.sub(_unescape, body).replace("'", "''") + "'"

    return _CHECK_PART.sub(standard, clause) if "'" in clause else clause


class _Types:
    """Column types from ``COLUMN_TYPE`` texts, as SQLAlchemy's MySQL dialect builds them."""

    def __init__(self, dialect: sa.Dialect) -> None:
        self.names: dict[str, Any] = dialect.ischema_names  # type: ignore[attr-defined]
        from sqlalchemy.dialects import mysql

        self.fractional = (mysql.DATETIME, mysql.TIME, mysql.TIMESTAMP)
        self.time = mysql.TIME
        self.valued = (mysql.ENUM, mysql.SET)
        self.set_type = mysql.SET
        self.built: dict[tuple[str, str | None, str | None],
                         Callable[[], TypeEngine[Any]] | TypeEngine[Any]] = {}

    def __call__(self, text: str, column: str, charset: str | None,
                 collation: str | None) -> TypeEngine[Any]:
        key = (text, charset, collation)
        found = self.built.get(key)
        if found is None:
            found = self._parse(text, column, charset, collation)
            if found is sa.types.NULLTYPE:  # unrecognised: its warning names each column
                return found
            self.built[key] = found
        return found() if not isinstance(found, TypeEngine) else found

    def _parse(self, text: str, column: str, charset: str | None,
               collation: str | None) -> Callable[[], TypeEngine[Any]] | TypeEngine[Any]:
        match = _COLUMN_TYPE.match(text)
        if match is None:
            warnings.warn(f"Unknown column definition {text!r}", sa.exc.SAWarning, stacklevel=2)
            return sa.types.NULLTYPE
        name, args = match["coltype"], match["arg"]
        cls = self.names.get(name)
        if cls is None and name.lower() in _SPATIAL:
            return Spatial(name)
        if cls is None:
            warnings.warn(f"Did not recognize type '{name}' of column '{column}'",
                          sa.exc.SAWarning, stacklevel=2)
            return sa.types.NULLTYPE
        values: list[Any]
        if not args:
            values = []
        elif args[0] == "'" and args[-1] == "'":
            values = _QUOTED.findall(args)
        else:
            values = [int(v) for v in _NUMBER.findall(args)]
        options: dict[str, Any] = {}
        if issubclass(cls, self.fractional) and values:
            options["fsp"] = values.pop(0)
        if match["unsigned"]:
            options["unsigned"] = True
        if match["zerofill"]:
            options["zerofill"] = True
        if charset:
            options["charset"] = charset
        if collation:
            options["collate"] = collation
        if issubclass(cls, sa.Float):  # DOUBLE and REAL hold binary floats: read as floats
            options["asdecimal"] = False
        if issubclass(cls, self.valued):
            values = [v[1:-1].replace("''", "'") for v in values]
            if issubclass(cls, self.set_type) and "" in values:
                options["retrieve_as_bitwise"] = True
        if issubclass(cls, self.time):  # a duration: read as one, not as a time of day
            return lambda: MySQLTime(**options)
        type_: TypeEngine[Any] = cls(*values, **options)
        if isinstance(type_, SchemaEventTarget):
            return lambda: cls(*values, **options)
        return type_


def _default(value: str | None, extra: str, mariadb: bool) -> str | None:
    """A column's default as ``SHOW CREATE TABLE`` prints it (with its ``ON UPDATE``)."""
    if value is None:
        return None
    if not mariadb:  # MySQL's catalog has literals unquoted, expressions marked in EXTRA
        if "DEFAULT_GENERATED" in extra.upper():
            if not value.upper().startswith("CURRENT_TIMESTAMP"):
                value = f"({value})"
        else:
            value = "'" + value.replace("'", "''") + "'"
    on_update = _ON_UPDATE.search(extra)
    if on_update is not None:
        value = f"{value} ON UPDATE {on_update.group(1)}"
    return None if value == "NULL" else value


def _view_types(table: TableFacts) -> None:
    """A view's columns read as a table's: ``TIME`` as durations, ``DOUBLE`` and ``REAL`` as
    floats (the inspector gives them as SQLAlchemy reflects them)."""
    from sqlalchemy.dialects import mysql

    def adjusted(type_: TypeEngine[Any]) -> TypeEngine[Any]:
        if isinstance(type_, mysql.TIME):
            return MySQLTime(fsp=type_.fsp)
        if isinstance(type_, sa.Float) and type_.asdecimal:
            floats = copy.copy(type_)
            floats.asdecimal = False
            return floats
        return type_

    table.columns = [column._replace(type=adjusted(column.type)) for column in table.columns]


def _name(connection: Connection, schema: str | None) -> str:
    """The schema's name; the connection's current database for the default one."""
    if schema is not None:
        return schema
    return str(connection.execute(sa.text("SELECT DATABASE()")).scalar())


class MySQLReader:
    """MySQL's and MariaDB's ``information_schema``, one query per kind of fact."""

    def list_relations(self, connection: Connection, schema: str | None) -> Relations:
        return {name: (kind == "VIEW", None)
                for name, kind, _, _ in connection.execute(
                    _TABLES, {"schema": _name(connection, schema)})}

    def fetch_only(self, connection: Connection, schemas: Sequence[str | None]) -> int:
        """The catalog queries of whole schemas alone, their rows fetched and dropped (the floor
        the benchmarks set reflection against); the number of rows."""
        return sum(self._fetch_schema(connection, schema) for schema in schemas)

    def _fetch_schema(self, connection: Connection, schema: str | None) -> int:
        params = {"schema": _name(connection, schema), "all_tables": True, "names": [""]}
        mariadb = bool(getattr(connection.dialect, "is_mariadb", False))
        return len(connection.execute(_TABLES, params).all()) + sum(len(connection.execute(
            sa.text(sql).bindparams(sa.bindparam("names", expanding=True)), params).all())
            for sql in (_COLUMNS, _KEYS, _MARIADB_CHECKS if mariadb else _MYSQL_CHECKS,
                        _TRIGGERS))

    def read(self, connection: Connection, schema: str | None, tables: Sequence[TableFacts],
             everything: bool, tick: Tick | None) -> None:
        views = [t for t in tables if t.is_view]
        by_name = {t.table: t for t in tables if not t.is_view}
        if by_name:
            self._read_tables(connection, schema, by_name, everything, tick)
        if views:
            InspectorReader(_view_types).read(connection, schema, views, False, tick)

    def _read_tables(self, connection: Connection, schema: str | None,
                     by_name: dict[str, TableFacts], everything: bool,
                     tick: Tick | None) -> None:
        names = list(by_name) if not everything else [""]
        params: dict[str, Any] = {"schema": _name(connection, schema), "all_tables": everything,
                                  "names": names}

        def query(sql: str) -> Any:
            return connection.execute(
                sa.text(sql).bindparams(sa.bindparam("names", expanding=True)), params)

        collations: dict[str, str | None] = {}
        for name, _, comment, collation in connection.execute(_TABLES, params):
            if name in by_name:
                by_name[name].comment = comment or None
                collations[name] = collation
        mariadb = bool(getattr(connection.dialect, "is_mariadb", False))
        json_columns: set[tuple[str, str]] = set()
        for table_name, clause, constraint in query(
                _MARIADB_CHECKS if mariadb else _MYSQL_CHECKS):
            if table_name not in by_name or not clause:
                continue
            by_name[table_name].checks.append(_standard_strings(clause))
            valid = _JSON_VALID.fullmatch(clause)
            if valid is not None and valid.group(1).replace("``", "`") == constraint:
                json_columns.add((table_name, constraint))
        self._columns(connection, query(_COLUMNS), by_name, collations, json_columns, tick)
        for (table_name,) in query(_TRIGGERS):
            if table_name in by_name:
                by_name[table_name].triggers = True
        home = params["schema"]
        foreign: dict[tuple[str, str], ForeignKeyFacts] = {}
        for table_name, constraint, column, target_schema, target, target_column in query(_KEYS):
            table = by_name.get(table_name)
            if table is None:
                continue
            if constraint == "PRIMARY" and target is None:
                table.primary_key = (*table.primary_key, column)
                continue
            fk = foreign.get((table_name, constraint))
            if fk is None:
                fk = ForeignKeyFacts(constraint, (), schema if target_schema == home
                                     else target_schema, target, ())
                table.foreign_keys.append(fk)
            updated = fk._replace(columns=(*fk.columns, column),
                                  referred_columns=(*fk.referred_columns, target_column))
            table.foreign_keys[table.foreign_keys.index(fk)] = updated
            foreign[(table_name, constraint)] = updated

    def _columns(self, connection: Connection, rows: Any, by_name: dict[str, TableFacts],
                 collations: dict[str, str | None], json_columns: set[tuple[str, str]],
                 tick: Tick | None) -> None:
        types = _Types(connection.dialect)
        json_type = types.names["json"]
        spatial: list[str] = []
        mariadb = bool(getattr(connection.dialect, "is_mariadb", False))
        current: TableFacts | None = None
        current_name = table_collation = None
        ticker = Ticker(tick, len(by_name))
        for (table_name, name, column_type, nullable, default, extra, charset, collation,
             comment) in rows:
            if table_name != current_name:
                current_name = table_name
                current = by_name.get(table_name)
                table_collation = collations.get(table_name)
                if current is not None:
                    ticker.table_done()
            if current is None:
                continue
            extra = extra or ""
            computed = "GENERATED" in extra.upper()
            if _ON_UPDATE.search(extra):
                # ON UPDATE CURRENT_TIMESTAMP sets the column on every update, as a BEFORE
                # UPDATE trigger would: a row an action changed is read back before its answer
                current.triggers = True
            # SHOW CREATE TABLE names the character set and collation where the collation is
            # not the table's
            other = collation is not None and collation != table_collation
            type_ = types(column_type, name, charset if other else None,
                          collation if other else None)
            if isinstance(type_, Spatial):
                spatial.append(f"{table_name}.{name}")
            if (table_name, name) in json_columns and column_type == "longtext":
                # what MariaDB makes of JSON: SQLAlchemy reads a LONGTEXT, its users mean JSON
                type_ = json_type()
            current.columns.append(ColumnFacts(
                name, type_, nullable == "YES",
                None if computed else _default(default, extra, mariadb),
                "auto_increment" in extra.lower(), computed, comment or None))
        if spatial:
            more = f" and {len(spatial) - 3} more" if len(spatial) > 3 else ""
            logger.info("spatial columns are shown as CharField: %s%s",
                        ", ".join(spatial[:3]), more)
        ticker.finish()
