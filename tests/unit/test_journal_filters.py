"""The Alembic filters: flexorm's environment sees only flexorm_* tables; a user's
environment, given ``include_object``, never sees them."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa

from flexorm.migrations.filters import (
    VERSION_TABLE,
    include_object,
    is_flexorm_table,
    own_include_name,
    own_include_object,
)
from flexorm.settings import Settings

meta = sa.MetaData()
ours = sa.Table("flexorm_action_runs", meta, sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("action", sa.String, index=True))
theirs = sa.Table("orders", meta, sa.Column("id", sa.Integer, primary_key=True),
                  sa.Column("flexorm_note", sa.String, index=True))
our_index = next(iter(ours.indexes))
their_index = next(iter(theirs.indexes))


@pytest.mark.parametrize(("obj", "name", "type_", "is_ours"), [
    (ours, "flexorm_action_runs", "table", True),
    (theirs, "orders", "table", False),
    (None, VERSION_TABLE, "table", True),  # reflected only: no object to look at
    (None, "alembic_version", "table", False),
    (ours.c.action, "action", "column", True),
    (theirs.c.flexorm_note, "flexorm_note", "column", False),
    (our_index, our_index.name, "index", True),
    (their_index, their_index.name, "index", False),
])
def test_filters_split_flexorm_and_user_objects(obj, name, type_, is_ours) -> None:
    assert own_include_object(obj, name, type_, True, None) is is_ours
    assert include_object(obj, name, type_, True, None) is (not is_ours)


def test_own_include_name_skips_user_tables_before_reflecting_them() -> None:
    assert own_include_name("flexorm_idempotency", "table", {})
    assert not own_include_name("orders", "table", {})
    assert own_include_name("ix_x", "index", {"table_name": "flexorm_idempotency"})
    assert not own_include_name("flexorm_ix", "index", {"table_name": "orders"})
    assert own_include_name(None, "schema", {})


def test_prefix_is_exact() -> None:
    assert is_flexorm_table("flexorm_x")
    assert not is_flexorm_table("flexormx")
    assert not is_flexorm_table("my_flexorm_x")
    assert not is_flexorm_table(None)


def test_importing_flexorm_never_imports_alembic() -> None:
    code = ("import sys, flexorm.migrations, flexorm.journal, flexorm.cli.db, flexorm.cli.runs;"
            "print('alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


def test_settings_read_the_state_database_ttl_and_auto_upgrade() -> None:
    settings = Settings.from_env({"FLEXORM_DATABASE_URL": "sqlite:///main.db",
                                  "FLEXORM_STATE_URL": "sqlite:///state.db",
                                  "FLEXORM_IDEMPOTENCY_TTL_SECONDS": "60",
                                  "FLEXORM_AUTO_UPGRADE": "yes"})

    assert settings.journal_url == "sqlite:///state.db"
    assert settings.idempotency_ttl_seconds == 60
    assert settings.auto_upgrade is True
    defaults = Settings.from_env({"FLEXORM_DATABASE_URL": "sqlite:///main.db"})
    assert defaults.journal_url == "sqlite:///main.db"
    assert (defaults.idempotency_ttl_seconds, defaults.auto_upgrade) == (86400, False)
