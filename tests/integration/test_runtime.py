"""Opening a runtime: what every entry point (uvicorn module:app, the CLI) goes through."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from litestar.testing import TestClient

from flexorm import Flex, Settings
from flexorm.exceptions import DatabaseError


async def _open(flex: Flex) -> None:
    async with flex.runtime():
        pass


def test_a_missing_sqlite_file_is_an_error_and_is_not_created(tmp_path: Path):
    path = tmp_path / "typo.db"
    flex = Flex(f"sqlite:///{path}", token="k", settings=Settings(journal=False))
    with pytest.raises(DatabaseError, match="no SQLite database at"):
        asyncio.run(_open(flex))
    assert not path.exists()


def test_served_app_refuses_to_start_on_a_missing_sqlite_file(tmp_path: Path):
    # the uvicorn path: the app's lifespan opens the runtime
    path = tmp_path / "typo.db"
    flex = Flex(f"sqlite:///{path}", token="k", settings=Settings(journal=False))
    with pytest.raises(BaseExceptionGroup) as info, TestClient(flex.app):
        pass
    assert info.group_contains(DatabaseError, match="no SQLite database at", depth=None)
    assert not path.exists()
