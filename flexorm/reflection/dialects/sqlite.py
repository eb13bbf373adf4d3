"""SQLite: every table's columns, keys, checks and triggers in four queries, whatever their number.

``sqlite_master`` joined with the table-valued pragma functions (SQLite 3.16+):
``pragma_table_xinfo`` gives every column of every table and view, ``pragma_foreign_key_list``
every foreign key; the table SQL read with the listing gives the constraint names and the
``CHECK`` texts. SQLAlchemy's inspector asks the same pragmas table by table and reads each
table's SQL once per kind of fact, which grows faster than the schema does. The schema's
triggers are one more query: a table's rows may be changed by triggers when one on it fires on
``INSERT`` or ``UPDATE`` (SQLite keeps the event in the trigger's SQL only; a trigger whose
event cannot be read counts).

The facts are the inspector's: a column's type is read by SQLite's affinity rules from the
dialect's public ``ischema_names``, as SQLAlchemy does (parsed once per distinct type text);
constraint names are matched to the pragma's foreign keys as SQLAlchemy matches them; checks are
found and ordered as SQLAlchemy finds them.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
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
from flexorm.reflection.typemap import AsStored, Unrecognized

__all__ = ["SQLiteReader", "adjust_rowid", "changes_rows", "check_texts"]



def adjust_rowid(table: TableFacts) -> None:
    """SQLite's rule: a single-column ``INTEGER PRIMARY KEY`` is the rowid, filled in when not
    given, so it is an autoincrement column and never null."""
    if len(table.primary_key) != 1:
        return
    key = table.primary_key[0]
    for index, column in enumerate(table.columns):
        if column.name == key and type(column.type) is sa.INTEGER:
            table.columns[index] = column._replace(autoincrement=True, nullable=False)


# -- types ---------------------------------------------------------------------------------------

_TYPE_TEXT = re.compile(r"([\w ]+)(\(.*?\))?")
_GENERATED = re.compile("generated", re.IGNORECASE)
_ALWAYS = re.compile("always", re.IGNORECASE)
_DIGITS = re.compile(r"(\d+)")


class _Types:
    """Column types from declared type texts, by SQLite's affinity rules over the dialect's
    ``ischema_names`` (what SQLAlchemy's SQLite dialect reflects); each text is parsed once.
    Types that attach themselves to a table are built anew for each column."""

    def __init__(self, names: dict[str, Any]) -> None:
        self.names = names
        self.built: dict[str, Callable[[], TypeEngine[Any]] | TypeEngine[Any]] = {}

    def __call__(self, text: str) -> TypeEngine[Any]:
        found = self.built.get(text)
        if found is None:
            found = self.built[text] = self._parse(text)
        return found() if callable(found) and not isinstance(found, TypeEngine) else found

    def _parse(self, text: str) -> Callable[[], TypeEngine[Any]] | TypeEngine[Any]:
        match = _TYPE_TEXT.match(text)
        name, args = (match.group(1), match.group(2)) if match else ("", "")
        cls: Any
        if name == "ANY":  # a STRICT table's column of no type: values as stored
            return Unrecognized("ANY")
        if name in self.names:
            cls = self.names[name]
        elif "INT" in name:
            cls = sa.INTEGER
        elif "CHAR" in name or "CLOB" in name or "TEXT" in name:
            cls = sa.TEXT
        elif "BLOB" in name or not name:
            cls = sa.types.NullType
        elif "REAL" in name or "FLOA" in name or "DOUB" in name:
            cls = sa.REAL
        else:
            cls = sa.NUMERIC
        numbers = [int(a) for a in _DIGITS.findall(args)] if args is not None else []
        try:
            type_ = cls(*numbers)
        except TypeError:
            warnings.warn(f"Could not instantiate type {cls} with reflected arguments "
                          f"{[str(n) for n in numbers]}; using no arguments.",
                          sa.exc.SAWarning, stacklevel=2)
            numbers = []
            type_ = cls()
        if isinstance(type_, SchemaEventTarget):
            return lambda: _as_stored(cls(*numbers))
        return _as_stored(type_)


_CONVERTED = (sa.Numeric, sa.Date, sa.DateTime, sa.Time, sa.JSON)
"""Types whose values SQLAlchemy converts as it reads them from SQLite (a ``Float`` is read as
SQLite gives it)."""


def _as_stored(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    """``type_``, read as stored where SQLAlchemy's conversion fails (:class:`AsStored`)."""
    if isinstance(type_, _CONVERTED) and not isinstance(type_, sa.Float):
        return AsStored(type_)
    return type_


# -- checks and constraint names, from the table SQL ---------------------------------------------

_CHECK = re.compile(
    r"""(?<![A-Za-z0-9_])(?:CONSTRAINT\s+("(?:[^"]|"")+"|'(?:[^']|'')+'|\[(?:[^\]]|\]\])+\]
    |`(?:[^`]|``)+`|\S+)\s+)?CHECK\s*\(""",
    re.VERBOSE | re.IGNORECASE,
)
_UNQUOTE = re.compile(r'^(["\'`])(.+)\1$|^\[(.+)\]$', re.DOTALL)
_FOREIGN_KEY = re.compile(
    r'(?:CONSTRAINT\s+(?:"(.+?)"|(\w+))\s+)?'
    r"FOREIGN\s+KEY\s*\(\s*(.+?)\s*\)\s+"
    r'REFERENCES\s+(?:(?:"(.+?)")|([a-z0-9_]+))\s*\(\s*((?:"[^"]+"|[a-z0-9_]+)'
    r'(?:(?:\s*,\s*|\s+)(?:"[^"]+"|[a-z0-9_]+))*\s*)\)',
    re.IGNORECASE,
)
_SIGNATURE_COLUMN = re.compile(r'(?:"(.+?)")|([a-z0-9_]+)', re.IGNORECASE)


def _closing(text: str, start: int) -> int | None:
    """The ``)`` matching the ``(`` at ``start``, skipping quoted strings and names."""
    depth = 0
    quote: str | None = None
    i = start
    while i < len(text):
        char = text[i]
        if quote is not None:
            if char == quote:
                if i + 1 < len(text) and text[i + 1] == quote:
                    i += 1
                else:
                    quote = None
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def check_texts(sql: str | None) -> list[str]:
    """The ``CHECK (...)`` bodies of a table's SQL, named ones first by name, as SQLAlchemy's
    SQLite dialect reports them."""
    if not sql or "check" not in sql.lower():
        return []
    found: list[tuple[str | None, str]] = []
    for match in _CHECK.finditer(sql):
        name = match.group(1)
        if name:
            name = _UNQUOTE.sub(lambda m: m.group(2) or m.group(3), name)
        close = _closing(sql, match.end() - 1)
        if close is not None:
            found.append((name, sql[match.end():close].strip()))
    found.sort(key=lambda item: item[0] or "~")
    return [text for _, text in found]


def _signature_columns(text: str) -> tuple[str, ...]:
    return tuple(m.group(1) or m.group(2) for m in _SIGNATURE_COLUMN.finditer(text))


def _declared_foreign_keys(sql: str | None) -> Iterator[tuple[str | None, tuple[str, ...]]]:
    """``(constraint name, signature)`` of each ``FOREIGN KEY`` clause, in the SQL's order."""
    if not sql or "foreign" not in sql.lower():
        return
    for match in _FOREIGN_KEY.finditer(sql):
        local = _signature_columns(match.group(3))
        remote = _signature_columns(match.group(6)) if match.group(6) else local
        yield (match.group(1) or match.group(2),
               (*local, match.group(4) or match.group(5), *remote))


# -- triggers ------------------------------------------------------------------------------------

_NAME = r"""(?:"(?:[^"]|"")*"|\[[^\]]*\]|`(?:[^`]|``)*`|'(?:[^']|'')*'|[^\s."'`\[]+)"""
_TRIGGER_EVENT = re.compile(
    rf"\s*CREATE\s+(?:TEMP(?:ORARY)?\s+)?TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    rf"{_NAME}(?:\s*\.\s*{_NAME})?(?:\s+|(?<=[\"\]`']))(?:BEFORE\s+|AFTER\s+|INSTEAD\s+OF\s+)?"
    r"(DELETE|INSERT|UPDATE)\b",
    re.IGNORECASE,
)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def changes_rows(sql: str | None) -> bool:
    """Whether a trigger (its ``CREATE TRIGGER`` text) fires on ``INSERT`` or ``UPDATE``; one
    whose event cannot be read is taken to.

    Examples:
        >>> changes_rows('CREATE TRIGGER "on delete" AFTER DELETE ON t BEGIN SELECT 1; END')
        False
        >>> changes_rows("create trigger main.touch before update of a on t begin select 1; end")
        True
        >>> changes_rows("CREATE TRIGGER trdelete INSERT ON t BEGIN SELECT 1; END")
        True
    """
    found = _TRIGGER_EVENT.match(sql or "")
    return found is None or found.group(1).upper() != "DELETE"


def _identifier(name: str) -> str:
    """A table name as SQLite compares it: ASCII letters without case."""
    return name.translate(_ASCII_LOWER)


# -- the reader ----------------------------------------------------------------------------------


class SQLiteReader:
    """SQLite's catalog, read with table-valued pragma functions."""

    def list_relations(self, connection: Connection, schema: str | None) -> Relations:
        rows = connection.exec_driver_sql(
            f"SELECT name, type FROM {_master(connection, schema)} "  # noqa: S608 - quoted
            "WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite~_%' ESCAPE '~' "
            "ORDER BY type, name")
        return {name: (kind == "view", None) for name, kind in rows}

    def fetch_only(self, connection: Connection, schemas: Sequence[str | None]) -> int:
        """The catalog queries of whole schemas alone, their rows fetched and dropped (the floor
        the benchmarks set reflection against); the number of rows."""
        return sum(self._fetch_schema(connection, schema) for schema in schemas)

    def _fetch_schema(self, connection: Connection, schema: str | None) -> int:
        master = _master(connection, schema)
        params = {"schema": schema or "main"}
        where = "m.type IN ('table', 'view')"
        return sum(len(connection.execute(sa.text(sql), params).all()) for sql in (
            _sql_query(master, where), _columns_query(master, where),
            _foreign_keys_query(master, where), _triggers_query(master)))

    def read(self, connection: Connection, schema: str | None, tables: Sequence[TableFacts],
             everything: bool, tick: Tick | None) -> None:
        master = _master(connection, schema)
        params: dict[str, Any] = {"schema": schema or "main"}
        where = "m.type IN ('table', 'view')"
        if not everything:
            where += " AND m.name IN (SELECT value FROM json_each(:names))"
            params["names"] = json.dumps([t.table for t in tables])
        by_name = {t.table: t for t in tables}
        sql: dict[str, str | None] = {}
        for name, text in connection.execute(sa.text(_sql_query(master, where)), params):
            sql[name] = text
        self._columns(connection, master, where, params, by_name, tick)
        keys = {t.table: t.primary_key for t in tables}
        self._foreign_keys(connection, master, where, params, by_name, sql, keys)
        triggered = {_identifier(table_name) for table_name, text in connection.exec_driver_sql(
            _triggers_query(master)) if changes_rows(text)}
        for name, table in by_name.items():
            table.checks = check_texts(sql.get(name))
            table.triggers = bool(triggered) and _identifier(name) in triggered
            adjust_rowid(table)

    def _columns(self, connection: Connection, master: str, where: str,
                 params: dict[str, Any], by_name: dict[str, TableFacts],
                 tick: Tick | None) -> None:
        types = _Types(connection.dialect.ischema_names)  # type: ignore[attr-defined]
        # each table's columns together, in order
        rows = connection.execute(sa.text(_columns_query(master, where)), params)
        current: TableFacts | None = None
        keys: list[tuple[int, str]] = []
        ticker = Ticker(tick, len(by_name))
        for table_name, name, declared, notnull, default, key, hidden in rows:
            if current is None or current.table != table_name:
                if current is not None:
                    current.primary_key = tuple(n for _, n in sorted(keys))
                    ticker.table_done()
                current = by_name.get(table_name)
                keys = []
            if current is None or hidden == 1:
                continue
            text = declared.upper()
            generated = bool(hidden)
            if generated:  # "INTEGER GENERATED ALWAYS" for "INTEGER GENERATED ALWAYS AS (...)"
                text = _ALWAYS.sub("", _GENERATED.sub("", text)).strip()
            current.columns.append(ColumnFacts(
                name, types(text), not notnull, str(default) if default is not None else None,
                False, generated, None))
            if key:
                keys.append((key, name))
        if current is not None:
            current.primary_key = tuple(n for _, n in sorted(keys))
        ticker.finish()

    def _foreign_keys(self, connection: Connection, master: str, where: str,
                      params: dict[str, Any], by_name: dict[str, TableFacts],
                      sql: dict[str, str | None], keys: dict[str, tuple[str, ...]]) -> None:
        # in the pragma's order, as SQLAlchemy reads it
        rows = connection.execute(sa.text(_foreign_keys_query(master, where)), params)
        found: dict[str, dict[int, tuple[str, list[str], list[str]]]] = {}
        for table_name, number, target, local, remote in rows:
            fks = found.setdefault(table_name, {})
            if number not in fks:
                fks[number] = (target, [], [] if remote else list(keys.get(target, ())))
            fks[number][1].append(local)
            if remote:
                fks[number][2].append(remote)
        for table_name, fks in found.items():
            table = by_name.get(table_name)
            if table is None:
                continue
            unnamed = {(*local, target, *remote): ForeignKeyFacts(
                None, tuple(local), table.schema, target, tuple(remote))
                for target, local, remote in fks.values()}
            ordered: list[ForeignKeyFacts] = []
            for name, signature in _declared_foreign_keys(sql.get(table_name)):
                fk = unnamed.pop(signature, None)
                if fk is not None:
                    ordered.append(fk._replace(name=name))
            ordered.extend(unnamed.values())
            table.foreign_keys = ordered


def _sql_query(master: str, where: str) -> str:
    return f"SELECT m.name, m.sql FROM {master} AS m WHERE {where}"  # noqa: S608 - quoted


def _columns_query(master: str, where: str) -> str:
    return ('SELECT m.name, p.name, p.type, p."notnull", p.dflt_value, p.pk, p.hidden '  # noqa: S608 - quoted
            f"FROM {master} AS m JOIN pragma_table_xinfo(m.name, :schema) AS p WHERE {where}")


def _foreign_keys_query(master: str, where: str) -> str:
    return ('SELECT m.name, f.id, f."table", f."from", f."to" '  # noqa: S608 - quoted
            f"FROM {master} AS m JOIN pragma_foreign_key_list(m.name, :schema) AS f "
            f"WHERE {where}")


def _triggers_query(master: str) -> str:
    # the table a trigger is on, as the trigger names it (without its schema, in any case)
    return f"SELECT tbl_name, sql FROM {master} WHERE type = 'trigger'"  # noqa: S608 - quoted


def _master(connection: Connection, schema: str | None) -> str:
    if schema is None:
        return "main.sqlite_master"
    return f"{connection.dialect.identifier_preparer.quote_identifier(schema)}.sqlite_master"
