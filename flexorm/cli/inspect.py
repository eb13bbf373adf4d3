"""``flexorm inspect``: what Jet Admin will see of a database, as a table or as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy.exc import ArgumentError

from flexorm._url import parse_url, redact_url
from flexorm.cli._console import data_console
from flexorm.cli._errors import one_line_errors
from flexorm.cli._progress import reflection_progress
from flexorm.database import Database, require_sqlite_file
from flexorm.exceptions import ConfigurationError
from flexorm.reflection import Progress as ProgressCallback
from flexorm.reflection import field_types, iter_model_descriptions
from flexorm.reflection.cache import reflect_cached
from flexorm.reflection.records import CollectionInfo, ColumnInfo, SchemaInfo
from flexorm.settings import Settings

if TYPE_CHECKING:  # rich is imported when rendering, not at every CLI start
    from rich.console import Console

__all__ = ["inspect_command"]


async def _reflect(settings: Settings, progress: ProgressCallback | None,
                   refresh: bool = False) -> SchemaInfo:
    url = parse_url(settings.database_url or "")
    require_sqlite_file(url)
    try:
        database = Database.connect(url)
    except (ArgumentError, ImportError) as exc:
        raise ConfigurationError(f"cannot use {redact_url(url)}: {exc}") from exc
    try:
        outcome = await reflect_cached(database.engine, settings, progress=progress,
                                       refresh=refresh)
        return outcome.schema
    finally:
        await database.dispose()


def _key(collection: CollectionInfo, column: ColumnInfo) -> str:
    marks = []
    if column.name in collection.primary_key:
        marks.append("PK" if collection.has_primary_key else "PK (first column)")
    fk = column.foreign_key
    if fk is not None:
        marks.append(f"→ {fk.target}.{fk.target_columns[0]}")
    return ", ".join(marks)


def _render(schema: SchemaInfo, console: Console) -> None:
    from rich.table import Table

    if not len(schema):
        console.print("No collections found.")
        return
    for collection in schema:
        kind = "view" if collection.is_view else "table"
        table = Table(title=f"{collection.name} ({kind})", title_justify="left",
                      title_style="bold")
        for heading in ("field", "type", "db_field", "null", "key"):
            table.add_column(heading)
        for column in collection.columns.values():
            jet_field, db_field = field_types(column)
            table.add_row(column.name, jet_field, db_field, "yes" if column.nullable else "",
                          _key(collection, column))
        console.print(table)
    noun = "collection" if len(schema) == 1 else "collections"
    console.print(f"{len(schema)} {noun} ({schema.dialect})")


def _json_default(value: Any) -> Any:
    return str(value)


def _echo_json(schema: SchemaInfo) -> None:
    """The model descriptions as ``json.dumps(..., indent=2)`` prints the array, written one
    description at a time (a large schema's array is never held whole)."""
    write = sys.stdout.write
    first = True
    for description in iter_model_descriptions(schema):
        text = json.dumps(description, indent=2, default=_json_default)
        write(("[\n  " if first else ",\n  ") + text.replace("\n", "\n  "))
        first = False
    write("[]\n" if first else "\n]\n")
    sys.stdout.flush()


@click.command("inspect")
@click.argument("database_url", required=False)
@click.option("--schema", "schemas", multiple=True, metavar="NAME",
              help="A schema to reflect (repeatable); the default schema when none is given.")
@click.option("--include", multiple=True, metavar="GLOB",
              help="Only collections matching this pattern (repeatable).")
@click.option("--exclude", multiple=True, metavar="GLOB",
              help="Leave out collections matching this pattern (repeatable).")
@click.option("--json", "as_json", is_flag=True,
              help="Print the model descriptions Jet Admin reads, as JSON.")
@click.option("--refresh", is_flag=True,
              help="Reflect the database even if the reflection cache is current, and store "
                   "the result in the cache.")
def inspect_command(
    database_url: str | None,
    schemas: tuple[str, ...],
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    as_json: bool,
    refresh: bool,
) -> None:
    """Show the collections and fields flexorm finds in a database.

    DATABASE_URL defaults to FLEXORM_DATABASE_URL; plain URLs such as sqlite:///app.db or
    postgresql://user@host/db work.
    """
    with one_line_errors(2):
        settings = Settings.from_env(
            database_url=database_url or None,
            schemas=schemas or None,
            include=include or None,
            exclude=exclude or None,
        )
        if not settings.database_url:
            raise ConfigurationError(
                "no database URL: pass one or set FLEXORM_DATABASE_URL")
        with reflection_progress() as progress:
            schema = asyncio.run(_reflect(settings, progress, refresh))
    if as_json:
        _echo_json(schema)
    else:
        _render(schema, data_console())
