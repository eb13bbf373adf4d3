"""A hand-built schema for unit tests (no database)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from flexorm.actions import declare
from flexorm.actions.binding import bind
from flexorm.exceptions import ValidationError
from flexorm.reflection.records import CollectionInfo, ColumnInfo, ForeignKeyInfo, SchemaInfo


def column(name, type_, *, nullable=True, pk=False, auto=False, **extra):
    return ColumnInfo(name, type_, nullable, pk, auto, **extra)


def collection(name, *columns, pk=("id",)):
    return CollectionInfo(
        name=name, table=name, schema=None, is_view=False,
        columns={c.name: c for c in columns}, primary_key=pk, primary_key_auto=True,
        has_primary_key=True,
    )


ACCOUNTS = collection(
    "accounts",
    column("id", sa.Integer(), nullable=False, pk=True, auto=True),
    column("name", sa.String(80), nullable=False),
)
TOKENS = collection("tokens", column("id", sa.Uuid(), nullable=False, pk=True))
ORDERS = collection(
    "orders",
    column("id", sa.Integer(), nullable=False, pk=True, auto=True),
    column("status", sa.String(10), nullable=False, server_default="'new'",
           options=("new", "shipped")),
    column("note", sa.Text()),
    column("total", sa.Numeric(10, 2), nullable=False),
    column("account_id", sa.Integer(), nullable=False,
           foreign_key=ForeignKeyInfo(None, ("account_id",), "accounts", ("id",), True)),
    column("shipped_at", sa.DateTime()),
    column("code", sa.String(5), nullable=False),
    column("slug", sa.String(40), computed=True),
)
SCHEMA = SchemaInfo(
    dialect="postgresql", default_schema="public",
    collections={c.name: c for c in (ACCOUNTS, ORDERS, TOKENS)},
)


def validator(func, **options):
    """The validator of ``func`` declared with ``options``, bound to :data:`SCHEMA`."""
    collection = SCHEMA[options["model"]] if "model" in options else None
    return bind(declare(func, **options), collection, SCHEMA).validator


def errors_of(v, raw):
    """The errors ``v`` refuses ``raw`` with."""
    with pytest.raises(ValidationError) as info:
        v.validate(raw)
    return info.value.errors
