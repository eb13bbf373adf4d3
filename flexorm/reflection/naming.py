"""Collection names: what Jet Admin calls a table, and which tables it sees."""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase

from flexorm.settings import RenameHook

__all__ = ["HIDDEN_TABLES", "OWN_PREFIX", "collection_name", "is_own_table", "is_selected"]

OWN_PREFIX = "flexorm_"
"""The prefix of flexorm's own tables (see :mod:`flexorm.journal.tables`): the journal,
``flexorm_action_runs``, is a read-only collection."""

HIDDEN_TABLES = frozenset({"flexorm_idempotency", "flexorm_alembic_version",
                           "procrastinate_jobs", "procrastinate_events", "procrastinate_workers",
                           "procrastinate_periodic_defers"})
"""Tables that are never collections: flexorm's idempotency keys and migration version, and
the background queue's tables (a run is watched through the journal instead)."""


def is_own_table(table: str) -> bool:
    """Whether a table is one of flexorm's own (named ``flexorm_*``)."""
    return table.startswith(OWN_PREFIX)


def collection_name(schema: str | None, table: str, rename: RenameHook | None = None) -> str:
    """The collection name of a table.

    Args:
        schema: the table's schema; ``None`` for the default schema.
        table: the table's name.
        rename: the user's hook; its ``None`` answer keeps flexorm's own name.

    Examples:
        >>> collection_name(None, "users"), collection_name("billing", "invoices")
        ('users', 'billing.invoices')
    """
    if rename is not None:
        chosen = rename(schema, table)
        if chosen is not None:
            return chosen
    return table if schema is None else f"{schema}.{table}"


def is_selected(name: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """Whether a collection passes the ``include`` / ``exclude`` glob patterns (case-sensitive).

    Examples:
        >>> is_selected("auth_user", ["auth_*"], ["*_log"]), is_selected("x_log", [], ["*_log"])
        (True, False)

    flexorm's :data:`HIDDEN_TABLES` are never selected.
    """
    if name.rpartition(".")[2] in HIDDEN_TABLES:
        return False
    if include and not any(fnmatchcase(name, pattern) for pattern in include):
        return False
    return not any(fnmatchcase(name, pattern) for pattern in exclude)
