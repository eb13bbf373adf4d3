"""Journal: dry runs, and the row counts a run changed.

Revision ID: 090502bf173d
Revises: 92f1e2af60e0
Create Date: 2026-12-03 09:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "090502bf173d"
down_revision: str | Sequence[str] | None = "92f1e2af60e0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("flexorm_action_runs") as batch_op:
        batch_op.add_column(sa.Column(
            "dry_run", sa.Boolean(), server_default=sa.false(), nullable=False,
            comment="true: run and rolled back, to show what it would change"))
        batch_op.add_column(sa.Column(
            "changes", sa.JSON(none_as_null=True), nullable=True,
            comment="rows inserted, updated and deleted per table, when counted"))


def downgrade() -> None:
    with op.batch_alter_table("flexorm_action_runs") as batch_op:
        batch_op.drop_column("changes")
        batch_op.drop_column("dry_run")
