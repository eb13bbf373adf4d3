"""Action journal and idempotency keys.

Revision ID: 92f1e2af60e0
Revises:
Create Date: 2026-11-28 17:15:43.457688
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "92f1e2af60e0"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = sa.String(length=255)
_JSON = sa.JSON(none_as_null=True)
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "flexorm_action_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("action", _NAME, nullable=False),
        sa.Column("collection", _NAME, nullable=True),
        sa.Column("ids", _JSON, nullable=True, comment="the selected ids; null: no records"),
        sa.Column("inverse", sa.Boolean(), server_default=sa.false(), nullable=False,
                  comment="true: every record except ids"),
        sa.Column("params", _JSON, nullable=False, comment="secret parameters redacted"),
        sa.Column("caller_kind", sa.String(length=16), nullable=True),
        sa.Column("caller_user_id", _NAME, nullable=True),
        sa.Column("caller_key_name", _NAME, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result", _JSON, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", _WHEN, nullable=False),
        sa.Column("finished_at", _WHEN, nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("request_id", _NAME, nullable=True),
        sa.Column("idempotency_key", _NAME, nullable=True),
        sa.CheckConstraint("status IN ('succeeded', 'failed', 'rejected')",
                           name=op.f("ck_flexorm_action_runs_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flexorm_action_runs")),
        comment="One row per execute_action, written by flexorm",
    )
    with op.batch_alter_table("flexorm_action_runs") as batch_op:
        batch_op.create_index(batch_op.f("ix_flexorm_action_runs_idempotency_key"),
                              ["idempotency_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_flexorm_action_runs_started_at"), ["started_at"],
                              unique=False)

    op.create_table(
        "flexorm_idempotency",
        sa.Column("key", _NAME, nullable=False),
        sa.Column("action", _NAME, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False,
                  comment="sha256 of the canonical JSON of the request"),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("response", _JSON, nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.CheckConstraint("status IN ('pending', 'done')",
                           name=op.f("ck_flexorm_idempotency_status")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_flexorm_idempotency")),
        comment="Idempotency keys of execute_action, written by flexorm",
    )
    with op.batch_alter_table("flexorm_idempotency") as batch_op:
        batch_op.create_index(batch_op.f("ix_flexorm_idempotency_expires_at"), ["expires_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("flexorm_idempotency") as batch_op:
        batch_op.drop_index(batch_op.f("ix_flexorm_idempotency_expires_at"))
    op.drop_table("flexorm_idempotency")
    with op.batch_alter_table("flexorm_action_runs") as batch_op:
        batch_op.drop_index(batch_op.f("ix_flexorm_action_runs_started_at"))
        batch_op.drop_index(batch_op.f("ix_flexorm_action_runs_idempotency_key"))
    op.drop_table("flexorm_action_runs")
