"""A server queuing runs on a separate PostgreSQL state database for workers: it says so at
startup, and when that database is out of reach as a run is asked for, the run cannot be
queued and the answer is a 503 a client may retry, not a 500; once the state database is
back, the same request queues the run."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from tests._proxy import proxied
from tests.integration._background_shop import TOKEN, create_tables, make_flex
from tests.integration._journal_shop import logged

pytestmark = pytest.mark.postgres


def _touch(http: TestClient[Any]) -> tuple[int, Any]:
    response = http.post("/api/messages/", headers={"Authorization": f"Bearer {TOKEN}"}, json={
        "name": "execute_action", "params": {"model": "items", "name": "touch", "ids": [1]}})
    return response.status_code, response.json()


def test_a_run_asked_for_while_the_state_database_is_down_is_a_503(
        sqlite_url: str, pg_url: str) -> None:
    create_tables(sqlite_url)
    state = sa.make_url(pg_url)
    assert state.host is not None
    assert state.port is not None
    with proxied(state.host, state.port) as proxy:
        through = state.set(host="127.0.0.1", port=proxy.port).render_as_string(
            hide_password=False)
        flex = make_flex(sqlite_url, state_url=through, background_runner="queue",
                         worker_heartbeat_seconds=1.0)
        with TestClient(flex.app) as http:
            proxy.down()
            status, body = _touch(http)
            proxy.up()
            assert (status, body["error_code"]) == (503, "database_unavailable"), body
            assert "could not be queued" in body["error"]
            status, body = _touch(http)
            assert status == 200, body
            assert body["result"]["status"] == "queued"


def test_a_server_queuing_for_workers_says_so_at_startup(sqlite_url: str, pg_url: str) -> None:
    """Runs stay queued until a ``flexorm worker`` takes them: the server says who runs them."""
    create_tables(sqlite_url)
    flex = make_flex(sqlite_url, state_url=pg_url, background_runner="queue",
                     worker_heartbeat_seconds=1.0)
    with logged("flexorm.background") as records, TestClient(flex.app):
        pass
    assert any("queued on PostgreSQL for `flexorm worker` processes" in record.getMessage()
               for record in records)
