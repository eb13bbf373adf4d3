"""Alembic autogenerate filters that keep flexorm's tables and the user's tables apart.

flexorm's own migration environment sees only ``flexorm_*`` tables (:func:`own_include_name`,
:func:`own_include_object`); a user's environment passes :func:`include_object` so it never
proposes to drop them. Nothing here imports alembic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flexorm.journal.tables import VERSION_TABLE, is_own_table

__all__ = ["VERSION_TABLE", "include_object", "is_flexorm_table", "own_include_name",
           "own_include_object"]

is_flexorm_table = is_own_table
"""Whether a table of this name belongs to flexorm (``flexorm_*``)."""

QUEUE_PREFIX = "procrastinate_"
"""The tables of the background queue, which ``flexorm db upgrade`` creates on PostgreSQL."""


def _table_name(obj: Any, name: str | None, type_: str) -> str | None:
    if type_ == "table":
        return name
    table = getattr(obj, "table", None)
    return getattr(table, "name", None)


def include_object(object: Any, name: str | None, type_: str,
                   reflected: bool, compare_to: Any) -> bool:
    """For a user's Alembic ``env.py``: leave flexorm's tables and its background queue's
    (and their indexes, columns and constraints) out of autogenerate, so it never proposes to
    drop or alter them.

    Examples:
        In ``env.py``::

            from flexorm import include_object

            context.configure(connection=connection, target_metadata=Base.metadata,
                              include_object=include_object)
    """
    table = _table_name(object, name, type_)
    return not is_flexorm_table(table) and not (table or "").startswith(QUEUE_PREFIX)


def own_include_name(name: str | None, type_: str, parent_names: Mapping[str, str | None]) -> bool:
    """flexorm's environment reflects only ``flexorm_*`` tables (never even reading the user's)."""
    if type_ == "schema":
        return True
    if type_ == "table":
        return is_flexorm_table(name)
    return is_flexorm_table(parent_names.get("table_name"))


def own_include_object(object: Any, name: str | None, type_: str,
                       reflected: bool, compare_to: Any) -> bool:
    """flexorm's environment compares only ``flexorm_*`` tables and what belongs to them."""
    return is_flexorm_table(_table_name(object, name, type_))
