"""The server's startup check reads flexorm's revision without loading Alembic when current."""

from __future__ import annotations

import subprocess
import sys

import anyio

from flexorm.migrations import check_revision, head, upgrade
from flexorm.migrations.commands import HEAD

_CHECK = """
import sys, anyio
from flexorm.migrations import check_revision
status = anyio.run(check_revision, sys.argv[1])
print(status.state, "alembic" in sys.modules)
"""


def test_the_known_head_is_alembics_head() -> None:
    assert head() == HEAD


def test_a_current_database_is_checked_without_alembic(db_url: str) -> None:
    upgrade(db_url)
    out = subprocess.run([sys.executable, "-c", _CHECK, db_url], capture_output=True,
                         text=True, check=True)
    assert out.stdout.split() == ["current", "False"]


def test_a_database_without_flexorms_tables_is_still_missing(db_url: str) -> None:
    status = anyio.run(check_revision, db_url)
    assert (status.state, status.current, status.head) == ("missing", None, HEAD)
