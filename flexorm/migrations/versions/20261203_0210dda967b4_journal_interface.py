"""The journal records which interface a run came through.

Revision ID: 0210dda967b4
Revises: c3e8f2a1d6b7
Create Date: 2026-12-03 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0210dda967b4"
down_revision: str | Sequence[str] | None = "c3e8f2a1d6b7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("flexorm_action_runs") as batch_op:
        batch_op.add_column(sa.Column(
            "interface", sa.String(length=16), nullable=True,
            comment="what the run came through: messages, mcp or http"))


def downgrade() -> None:
    with op.batch_alter_table("flexorm_action_runs") as batch_op:
        batch_op.drop_column("interface")
