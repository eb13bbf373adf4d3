"""``get_field_options`` for action parameters: a hook, a SelectField's options, or a bounded
search over a ForeignKey's related collection."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any

import anyio.to_thread
import sqlalchemy as sa

from flexorm.actions.declaration import OptionsHook
from flexorm.actions.params.ids import id_coercer
from flexorm.actions.params.spec import ParamSpec
from flexorm.database import Database
from flexorm.db_errors import classify
from flexorm.protocol.encoding import encode
from flexorm.reflection.records import CollectionInfo
from flexorm.reflection.typemap import base_type

__all__ = ["display_column", "hook_options", "related_options", "select_options"]

_MAX_QUERY = 200


def _matches(query: str | None, *texts: str) -> bool:
    if not query:
        return True
    folded = query.casefold()
    return any(folded in text.casefold() for text in texts)


def select_options(spec: ParamSpec, query: str | None, limit: int) -> list[dict[str, Any]]:
    """The choices whose label or value contains ``query`` (case-insensitive)."""
    found = [c.to_json() for c in spec.choices if _matches(query, c.name, str(c.wire_value))]
    return found[:limit]


def display_column(collection: CollectionInfo) -> str:
    """The column shown as an option's name: the first text column that is not the key, else
    the key itself."""
    for column in collection.columns.values():
        if column.name not in collection.primary_key and isinstance(base_type(column.type),
                                                                    sa.String):
            return column.name
    return collection.primary_key_field


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def related_options(
    database: Database, collection: CollectionInfo, value_column: str, query: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Up to ``limit`` records of ``collection`` whose display column contains ``query`` (or
    whose id is ``query``), ordered by that column; none when ``query`` holds characters the
    column's character set cannot (MySQL, MariaDB).

    A record of a composite key is offered by its full key (``{"aircraft_code": "773",
    "seat_no": "1A"}``), named by its key's values and its display column: its first key
    column alone may name many records, which the parameter then refuses."""
    table = collection.sa_table
    value = table.c[value_column]
    display_name = display_column(collection)
    display = table.c[display_name]
    key_names = _full_key(collection, value_column)
    keys = [table.c[name] for name in key_names]
    statement = sa.select(display, value, *keys).order_by(display, value, *keys).limit(limit)
    query = (query or "").strip()[:_MAX_QUERY].replace("\x00", "")
    if query:
        shown = display if display_name != value_column else sa.cast(display, sa.String)
        condition: sa.ColumnElement[bool] = shown.ilike(f"%{_escape_like(query)}%", escape="\\")
        try:
            exact = id_coercer(collection.columns[value_column])(query)
        except ValueError:
            pass
        else:
            condition = sa.or_(condition, value == exact)
        statement = statement.where(condition)
    async with database.engine.connect() as conn:
        try:
            rows = (await conn.execute(statement)).all()
        except sa.exc.DBAPIError as exc:
            if classify(exc) != "charset":
                raise
            return []  # text the column's character set cannot hold: no record contains it
    if key_names:
        return [_key_option(key_names, row[2:], row[0], display_name in key_names)
                for row in rows]
    return [{"value": encode(row[1]), "name": _shown(row[1] if row[0] is None else row[0])}
            for row in rows]


def _full_key(collection: CollectionInfo, value_column: str) -> tuple[str, ...]:
    """The key columns an option's value names, when the record is named by a composite key
    (else none: the option's value is the column's)."""
    if collection.has_primary_key and len(collection.primary_key) > 1 \
            and value_column == collection.primary_key_field:
        return collection.primary_key
    return ()


def _key_option(names: tuple[str, ...], values: Any, display: Any,
                display_in_key: bool) -> dict[str, Any]:
    """An option naming a record by its full key: ``773, 1A: Business``."""
    name = ", ".join(_shown(value) for value in values)
    if not display_in_key and display is not None:
        name = f"{name}: {_shown(display)}"
    return {"value": {column: encode(value) for column, value in zip(names, values, strict=True)},
            "name": name}


def _shown(value: Any) -> str:
    """An option's name: a ``CHAR(n)`` value without the blanks the database padded it with."""
    return value.rstrip(" ") if isinstance(value, str) else str(value)


def _option(item: Any) -> dict[str, Any]:
    if isinstance(item, Mapping) and "value" in item:
        option = {"value": encode(item["value"]),
                  "name": str(item.get("name", item["value"]))}
        if item.get("color"):
            option["color"] = str(item["color"])
        return option
    if isinstance(item, tuple) and len(item) == 2:
        return {"value": encode(item[0]), "name": str(item[1])}
    return {"value": encode(item), "name": str(encode(item))}


async def hook_options(hook: OptionsHook, query: str | None,
                       form: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Call a developer's hook (sync hooks in a worker thread) and normalise its answer."""
    if inspect.iscoroutinefunction(hook):
        answer = await hook(query, form)
    else:
        answer = await anyio.to_thread.run_sync(hook, query, form)
        if inspect.isawaitable(answer):
            answer = await answer
    if not isinstance(answer, Iterable) or isinstance(answer, str | bytes | Mapping):
        raise TypeError(
            f"an options hook must return a list of options, not {type(answer).__name__}"
        )
    return [_option(item) for item in answer]
