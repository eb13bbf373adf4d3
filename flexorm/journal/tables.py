"""flexorm's own tables, as SQLAlchemy Core ``Table`` objects on a ``MetaData`` of their own,
and the one place their names are spelled.

Every table flexorm owns is named ``flexorm_*`` (:data:`PREFIX`, :func:`is_own_table`); the
migration environment, the :func:`~flexorm.migrations.filters.include_object` helper and the
action layer (no action on flexorm's tables) rely on that prefix. The migrations in
``flexorm/migrations/versions`` create these tables; a test checks that they match.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "ACTION_RUNS",
    "FINISHED_STATUSES",
    "IDEMPOTENCY",
    "NAME_LENGTH",
    "PREFIX",
    "RUN_STATUSES",
    "VERSION_TABLE",
    "action_runs",
    "idempotency_keys",
    "is_own_table",
    "metadata",
]

PREFIX = "flexorm_"
"""The name prefix of every table flexorm owns."""

ACTION_RUNS = f"{PREFIX}action_runs"
"""The action journal."""

IDEMPOTENCY = f"{PREFIX}idempotency"
"""Idempotency keys and their stored answers."""

VERSION_TABLE = f"{PREFIX}alembic_version"
"""flexorm's Alembic version table: separate from the user's ``alembic_version``."""


def is_own_table(name: str | None) -> bool:
    """Whether a table of this name belongs to flexorm (``flexorm_*``).

    Examples:
        >>> is_own_table("flexorm_action_runs"), is_own_table("orders")
        (True, False)
    """
    return name is not None and name.startswith(PREFIX)


RUN_STATUSES = ("succeeded", "failed", "rejected", "queued", "running", "cancelled", "expired",
                "interrupted")
"""A journal row's status: the body ran and committed; it raised; it never ran (bad input,
permission denied). A background run is also ``queued`` (waiting for a worker), ``running``,
``cancelled`` (stopped on request, rolled back), ``expired`` (not started in time, never ran) or
``interrupted`` (its worker died mid-run; rolled back, not retried)."""

FINISHED_STATUSES = ("succeeded", "failed", "rejected", "cancelled", "expired", "interrupted")
"""The statuses a run never leaves."""

KEY_STATUSES = ("pending", "done")
"""An idempotency key's status: a request holds it, or its answer is stored."""

metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})
"""flexorm's own metadata: never mixed with the user's."""

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements INTEGER only
NAME_LENGTH = 255
"""The most characters of a column holding a name (an action, a caller's id, a progress
message)."""

_Name = sa.String(NAME_LENGTH)
_Json = sa.JSON(none_as_null=True)
_When = sa.DateTime(timezone=True)


def _in(values: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{value}'" for value in values) + ")"


action_runs = sa.Table(
    ACTION_RUNS,
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("action", _Name, nullable=False),
    sa.Column("collection", _Name, nullable=True),
    sa.Column("ids", _Json, nullable=True, comment="the selected ids; null: no records"),
    sa.Column("inverse", sa.Boolean(), nullable=False, server_default=sa.false(),
              comment="true: every record except ids"),
    sa.Column("params", _Json, nullable=False, comment="secret parameters redacted"),
    sa.Column("caller_kind", sa.String(16), nullable=True),
    sa.Column("caller_user_id", _Name, nullable=True),
    sa.Column("caller_key_name", _Name, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("result", _Json, nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("started_at", _When, nullable=False),
    sa.Column("finished_at", _When, nullable=True, comment="null: still queued or running"),
    sa.Column("duration_ms", sa.Integer(), nullable=True),
    sa.Column("request_id", _Name, nullable=True),
    sa.Column("idempotency_key", _Name, nullable=True),
    sa.Column("dry_run", sa.Boolean(), nullable=False, server_default=sa.false(),
              comment="true: run and rolled back, to show what it would change"),
    sa.Column("changes", _Json, nullable=True,
              comment="rows inserted, updated and deleted per table, when counted"),
    sa.Column("background", sa.Boolean(), nullable=False, server_default=sa.false(),
              comment="true: answered at once, run later by a worker"),
    sa.Column("running_at", _When, nullable=True, comment="when a worker last started it"),
    sa.Column("expires_at", _When, nullable=True, comment="not started by then: expired"),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("progress_done", sa.BigInteger(), nullable=True),
    sa.Column("progress_total", sa.BigInteger(), nullable=True),
    sa.Column("progress_message", _Name, nullable=True),
    sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("payload", _Json, nullable=True,
              comment="what a queued run needs to run (secrets included); cleared when done"),
    sa.Column("checkpoint", _Json, nullable=True,
              comment="atomic=False: the ids and results of the committed chunks"),
    sa.Column("job_id", sa.BigInteger(), nullable=True, comment="the queue's job, if any"),
    sa.Column("worker", _Name, nullable=True, comment="the process running it"),
    sa.Column("interface", sa.String(16), nullable=True,
              comment="what the run came through: messages, mcp or http"),
    sa.CheckConstraint(_in(RUN_STATUSES), name="status"),
    sa.Index(None, "idempotency_key"),
    sa.Index(None, "started_at"),
    sa.Index(None, "status"),
    comment="One row per execute_action, written by flexorm",
    # MySQL, MariaDB: any text whatever the database's default (latin1 on MariaDB before 11.6),
    # compared byte for byte (an idempotency key is case-sensitive)
    mysql_charset="utf8mb4",
    mysql_collate="utf8mb4_bin",
)
"""The action journal: one row per ``execute_action``."""

idempotency_keys = sa.Table(
    IDEMPOTENCY,
    metadata,
    sa.Column("key", _Name, primary_key=True),
    sa.Column("action", _Name, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False,
              comment="sha256 of the canonical JSON of the request"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("response", _Json, nullable=True),
    sa.Column("created_at", _When, nullable=False),
    sa.Column("expires_at", _When, nullable=False),
    sa.CheckConstraint(_in(KEY_STATUSES), name="status"),
    sa.Index(None, "expires_at"),
    comment="Idempotency keys of execute_action, written by flexorm",
    mysql_charset="utf8mb4",
    mysql_collate="utf8mb4_bin",
)
"""Idempotency keys: the primary key is what makes one key run its action once."""
