"""Any other database: SQLAlchemy's batched inspector (``get_multi_*``), as it answers.

One call per kind of fact for the whole schema, or for the selected names when only a few are
selected; in chunks of tables when progress is reported. Also the reference the dialect readers
are tested against: built with a dialect's ``adjust``, it gives the very facts they must give.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Inspector
from sqlalchemy.engine.reflection import ObjectKind

from flexorm.reflection.dialects.base import (
    ColumnFacts,
    ForeignKeyFacts,
    Relations,
    TableFacts,
    Tick,
)

__all__ = ["InspectorReader", "column_facts", "foreign_key_facts"]

_CHUNK = 250
"""Tables per batch of inspector calls when progress is reported."""


def _optional(call: Callable[[], Any], empty: Any) -> Any:
    try:
        return call()
    except NotImplementedError:
        return empty


def column_facts(column: dict[str, Any]) -> ColumnFacts:
    """A column as the inspector describes it (``ReflectedColumn``)."""
    default = column.get("default")
    autoincrement = bool(column.get("autoincrement") is True or column.get("identity")
                         or (isinstance(default, str)
                             and default.strip().lower().startswith("nextval(")))
    return ColumnFacts(column["name"], column["type"], bool(column.get("nullable", True)),
                       str(default) if default is not None else None, autoincrement,
                       "computed" in column, column.get("comment"))


def foreign_key_facts(fk: dict[str, Any]) -> ForeignKeyFacts:
    """A foreign key as the inspector describes it (``ReflectedForeignKeyConstraint``)."""
    return ForeignKeyFacts(fk.get("name"), tuple(fk["constrained_columns"]),
                           fk.get("referred_schema"), fk["referred_table"],
                           tuple(fk["referred_columns"]))


class InspectorReader:
    """The batched inspector of any SQLAlchemy dialect."""

    def __init__(self, adjust: Callable[[TableFacts], None] | None = None) -> None:
        self.adjust = adjust
        """Applied to each table once read: a dialect's own rules (SQLite's rowid key)."""

    def list_relations(self, connection: Connection, schema: str | None) -> Relations:
        inspector = sa.inspect(connection)
        objects: Relations = dict.fromkeys(inspector.get_table_names(schema), (False, None))
        objects.update((name, (True, None)) for name in inspector.get_view_names(schema))
        objects.update(
            (name, (True, None))
            for name in _optional(partial(inspector.get_materialized_view_names, schema), [])
        )
        return objects

    def read(self, connection: Connection, schema: str | None, tables: Sequence[TableFacts],
             everything: bool, tick: Tick | None) -> None:
        inspector = sa.inspect(connection)
        chunks = [list(tables)]
        if tick is not None and len(tables) > _CHUNK:
            chunks = [list(tables[i:i + _CHUNK]) for i in range(0, len(tables), _CHUNK)]
        for chunk in chunks:
            self._read_chunk(inspector, schema, chunk, everything and len(chunks) == 1)
            if tick is not None:
                tick(len(chunk))

    def _read_chunk(self, inspector: Inspector, schema: str | None, chunk: list[TableFacts],
                    everything: bool) -> None:
        by_key = {(t.schema, t.table): t for t in chunk}
        options: dict[str, Any] = {
            "schema": schema,
            "kind": ObjectKind.ANY,
            # None for the whole schema; never an empty list (which means "everything" too)
            "filter_names": None if everything else [t.table for t in chunk],
        }
        for key, columns in inspector.get_multi_columns(**options).items():
            if key in by_key:
                by_key[key].columns = [column_facts(dict(c)) for c in columns]
        for key, pk in inspector.get_multi_pk_constraint(**options).items():
            if key in by_key:
                by_key[key].primary_key = tuple(pk.get("constrained_columns") or ())
        for key, fks in inspector.get_multi_foreign_keys(**options).items():
            if key in by_key:
                by_key[key].foreign_keys = [foreign_key_facts(dict(fk)) for fk in fks]
        if inspector.dialect.supports_comments:
            comments = _optional(partial(inspector.get_multi_table_comment, **options), {})
            for key, comment in comments.items():
                if key in by_key:
                    by_key[key].comment = comment.get("text")
        checks = _optional(partial(inspector.get_multi_check_constraints, **options), {})
        for key, constraints in checks.items():
            if key in by_key:
                by_key[key].checks = [str(c.get("sqltext") or "") for c in constraints]
        if self.adjust is not None:
            for table in chunk:
                self.adjust(table)
