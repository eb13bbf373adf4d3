"""The background queue's tables (procrastinate's schema), on a PostgreSQL state database.

On any other database this revision does nothing: background actions then run in the server
process (see ``docs/background.md``). A database that already holds procrastinate's tables
(an application using procrastinate itself) is left as it is, and a downgrade drops only the
tables this revision created (it marks them with a comment).

Revision ID: c3e8f2a1d6b7
Revises: b7c1d0e5a914
Create Date: 2026-12-03 09:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3e8f2a1d6b7"
down_revision: str | Sequence[str] | None = "b7c1d0e5a914"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MARK = "the background queue of flexorm, created by flexorm db upgrade"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or sa.inspect(bind).has_table("procrastinate_jobs"):
        return
    from procrastinate.schema import SchemaManager

    # the driver's own execute: the schema is a script of many statements, without parameters
    raw = bind.connection.driver_connection
    assert raw is not None
    raw.execute(SchemaManager.get_schema())
    op.execute(sa.text(f"COMMENT ON TABLE procrastinate_jobs IS '{_MARK}'"))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    mark = bind.execute(sa.text(
        "SELECT obj_description(to_regclass('procrastinate_jobs'), 'pg_class')")).scalar()
    if mark != _MARK:
        return
    for table in ("procrastinate_periodic_defers", "procrastinate_events", "procrastinate_jobs",
                  "procrastinate_workers"):
        op.execute(sa.text(f"DROP TABLE IF EXISTS {table} CASCADE"))
    functions = bind.execute(sa.text(
        "SELECT p.oid::regprocedure::text FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE p.proname LIKE 'procrastinate\\_%' AND n.nspname = current_schema()")).scalars()
    for function in list(functions):
        op.execute(sa.text(f"DROP FUNCTION IF EXISTS {function} CASCADE"))
    types = bind.execute(sa.text(
        "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE t.typname LIKE 'procrastinate\\_%' AND t.typtype IN ('e', 'c') "
        "AND n.nspname = current_schema()")).scalars()
    for type_ in list(types):
        op.execute(sa.text(f"DROP TYPE IF EXISTS {type_} CASCADE"))
