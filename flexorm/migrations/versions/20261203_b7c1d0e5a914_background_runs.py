"""Background runs: queued and running rows in the journal, their progress and control.

Revision ID: b7c1d0e5a914
Revises: 090502bf173d
Create Date: 2026-12-03 09:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7c1d0e5a914"
down_revision: str | Sequence[str] | None = "090502bf173d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = sa.String(length=255)
_JSON = sa.JSON(none_as_null=True)
_WHEN = sa.DateTime(timezone=True)
_OLD = "status IN ('succeeded', 'failed', 'rejected')"
_NEW = ("status IN ('succeeded', 'failed', 'rejected', 'queued', 'running', 'cancelled', "
        "'expired', 'interrupted')")
_TABLE = "flexorm_action_runs"


def upgrade() -> None:
    with op.batch_alter_table(_TABLE) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_flexorm_action_runs_status"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_flexorm_action_runs_status"), _NEW)
        batch_op.alter_column("finished_at", existing_type=_WHEN, nullable=True,
                              comment="null: still queued or running")
        batch_op.alter_column("duration_ms", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("background", sa.Boolean(), server_default=sa.false(),
                                      nullable=False,
                                      comment="true: answered at once, run later by a worker"))
        batch_op.add_column(sa.Column("running_at", _WHEN, nullable=True,
                                      comment="when a worker last started it"))
        batch_op.add_column(sa.Column("expires_at", _WHEN, nullable=True,
                                      comment="not started by then: expired"))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0",
                                      nullable=False))
        batch_op.add_column(sa.Column("progress_done", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("progress_total", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("progress_message", _NAME, nullable=True))
        batch_op.add_column(sa.Column("cancel_requested", sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column(
            "payload", _JSON, nullable=True,
            comment="what a queued run needs to run (secrets included); cleared when done"))
        batch_op.add_column(sa.Column(
            "checkpoint", _JSON, nullable=True,
            comment="atomic=False: the ids and results of the committed chunks"))
        batch_op.add_column(sa.Column("job_id", sa.BigInteger(), nullable=True,
                                      comment="the queue's job, if any"))
        batch_op.add_column(sa.Column("worker", _NAME, nullable=True,
                                      comment="the process running it"))
        batch_op.create_index(batch_op.f("ix_flexorm_action_runs_status"), ["status"],
                              unique=False)


def downgrade() -> None:
    # Runs that never finished have no place in the older table: they are dropped with it.
    op.execute(sa.text(f"DELETE FROM {_TABLE} WHERE finished_at IS NULL"))  # noqa: S608 - a constant
    op.execute(sa.text(
        f"UPDATE {_TABLE} SET status = 'failed' WHERE status IN "  # noqa: S608 - a constant
        "('cancelled', 'expired', 'interrupted')"))
    with op.batch_alter_table(_TABLE) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flexorm_action_runs_status"))
        for column in ("worker", "job_id", "checkpoint", "payload", "cancel_requested",
                       "progress_message", "progress_total", "progress_done", "attempts",
                       "expires_at", "running_at", "background"):
            batch_op.drop_column(column)
        batch_op.alter_column("duration_ms", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("finished_at", existing_type=_WHEN, nullable=False, comment=None)
        batch_op.drop_constraint(batch_op.f("ck_flexorm_action_runs_status"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_flexorm_action_runs_status"), _OLD)
