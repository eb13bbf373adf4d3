"""flexorm's own tables, migrated with Alembic.

The environment (``env.py``, ``versions/``) ships in this package with its own version table,
``flexorm_alembic_version``, and sees only ``flexorm_*`` tables. Alembic itself is imported only
when a migration command runs.

Examples:
    >>> from flexorm.migrations import current, head, upgrade
    >>> upgrade("sqlite:///app.db")  # doctest: +SKIP
    (None, '6d1f4a8c2e57')
    >>> current("sqlite:///app.db") == head()  # doctest: +SKIP
    True
"""

from flexorm.migrations.commands import current, downgrade, head, upgrade
from flexorm.migrations.filters import VERSION_TABLE, include_object
from flexorm.migrations.startup import Status, check_revision, ensure_current

__all__ = [
    "VERSION_TABLE",
    "Status",
    "check_revision",
    "current",
    "downgrade",
    "ensure_current",
    "head",
    "include_object",
    "upgrade",
]
