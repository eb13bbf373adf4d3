"""flexorm's tables keep any text on MySQL and MariaDB: utf8mb4, compared byte for byte.

A table created without a character set takes the database's default, which is latin1 on
MariaDB before 11.6 (and on any server started without a configuration file): an error message,
a caller's id or a progress message in Cyrillic, Chinese or with an emoji could not be written,
and its run lost its journal row. latin1's default collation also compared idempotency keys
without regard to case. The tables are converted to utf8mb4 with a binary collation.

Revision ID: 6d1f4a8c2e57
Revises: 0210dda967b4
Create Date: 2026-12-04 17:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "6d1f4a8c2e57"
down_revision: str | Sequence[str] | None = "0210dda967b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("flexorm_action_runs", "flexorm_idempotency")


def upgrade() -> None:
    if op.get_bind().dialect.name not in ("mysql", "mariadb"):
        return
    for table in _TABLES:
        op.execute(f"ALTER TABLE {table} CONVERT TO CHARACTER SET utf8mb4 "
                   "COLLATE utf8mb4_bin")
    # the conversion widens a TEXT column to MEDIUMTEXT to keep as many characters; the journal
    # keeps 2,000 characters of an error, which TEXT holds in any character set
    op.execute("ALTER TABLE flexorm_action_runs MODIFY error TEXT NULL")


def downgrade() -> None:
    """Nothing to undo: utf8mb4 holds everything the tables held before."""
