"""Fixtures shared by the integration tests: the test app's ``Flex`` and an HTTP client on it.

``client`` serves the ``flex`` fixture through Litestar's test client (its lifespan runs, so
the runtime is open). A test module that needs another app defines its own ``flex`` fixture;
by default it is the test app (:func:`~tests.integration.server_app.build_flex`) on ``db_url``,
SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from flexorm import Flex
from tests.integration.server_app import build_flex, create_schema


@pytest.fixture
def flex(db_url: str) -> Flex:
    create_schema(db_url)
    return build_flex(db_url)


@pytest.fixture
def client(flex: Flex) -> Iterator[TestClient[Any]]:
    with TestClient(flex.app) as test_client:
        yield test_client


@pytest.fixture
def sqlite_client(sqlite_url: str) -> Iterator[TestClient[Any]]:
    create_schema(sqlite_url)
    with TestClient(build_flex(sqlite_url).app) as test_client:
        yield test_client
