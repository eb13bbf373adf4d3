"""The options flexorm's environment passes to ``context.configure``, importable on their own
(``env.py`` runs Alembic as soon as it is imported)."""

from __future__ import annotations

from typing import Any

from flexorm.journal.tables import metadata
from flexorm.migrations.filters import VERSION_TABLE, own_include_name, own_include_object

__all__ = ["OPTIONS"]

OPTIONS: dict[str, Any] = {
    "target_metadata": metadata,
    "version_table": VERSION_TABLE,
    "include_name": own_include_name,
    "include_object": own_include_object,
    "render_as_batch": True,
    "compare_type": True,
}
"""flexorm's tables only, its own version table, batch mode (SQLite cannot ALTER much)."""
