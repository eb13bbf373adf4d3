"""Two real server processes (uvicorn) against one PostgreSQL database: both write one journal,
and one idempotency key sent to both at once runs the body once. All state is in the database.

Both processes start at the same moment with ``auto_upgrade``: the migration lock lets one of
them create flexorm's tables while the other waits.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from devservers.net import free_port
from tests.integration._journal_shop import create_tables, hits, runs, status_of

pytestmark = pytest.mark.postgres

_WAIT = 60.0  # seconds: a bound on waiting, not a performance claim
TOKEN = "two-processes-key"

SERVER = """
import sys
import time
from typing import Any

import sqlalchemy as sa
import uvicorn

from flexorm import ActionContext, Flex, Settings

url, port = sys.argv[1], int(sys.argv[2])
flex = Flex(url, settings=Settings(tokens=(sys.argv[3],), auto_upgrade=True, journal=True))


@flex.action(model="orders", for_instance=True)
def cancel(order: Any, ctx: ActionContext) -> str:
    time.sleep(0.3)  # long enough for a request to the other process to overlap
    ctx.session.execute(sa.text("INSERT INTO hits (action) VALUES ('cancel')"))
    order.status = "cancelled"
    return f"cancelled {order.id}"


uvicorn.run(flex.app, host="127.0.0.1", port=port, log_level="warning")
"""


@contextmanager
def _server(url: str, log: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEXORM_")}
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-c", SERVER, url, str(port), TOKEN],
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=_WAIT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_healthy(base: str, log: Path) -> None:
    deadline = time.monotonic() + _WAIT
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{base} did not start:\n{log.read_text()}")


def _execute(base: str, order_id: int, headers: dict[str, str]) -> tuple[int, Any]:
    response = httpx.post(
        f"{base}/api/messages/", timeout=_WAIT,
        headers={"Authorization": f"Bearer {TOKEN}", **headers},
        json={"name": "execute_action",
              "params": {"model": "orders", "name": "cancel", "id": order_id}})
    return response.status_code, response.json()


@pytest.fixture
def servers(pg_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    create_tables(pg_url)
    with ExitStack() as stack:
        first = stack.enter_context(_server(pg_url, tmp_path / "first.log"))
        second = stack.enter_context(_server(pg_url, tmp_path / "second.log"))
        _wait_healthy(first, tmp_path / "first.log")
        _wait_healthy(second, tmp_path / "second.log")
        yield first, second


def test_two_processes_write_one_journal(servers: tuple[str, str], pg_url: str) -> None:
    first, second = servers
    assert _execute(first, 1, {"X-Request-ID": "via-first"}) == (200, {"result": "cancelled 1"})
    assert _execute(second, 2, {"X-Request-ID": "via-second"}) == (200, {"result": "cancelled 2"})
    assert [(run.request_id, run.ids, run.status) for run in runs(pg_url)] == [
        ("via-first", (1,), "succeeded"), ("via-second", (2,), "succeeded")]


def test_one_key_sent_to_both_processes_at_once_runs_once(servers: tuple[str, str],
                                                          pg_url: str) -> None:
    key = {"Idempotency-Key": "both-processes"}
    start = threading.Barrier(2)
    answers: dict[str, tuple[int, Any]] = {}

    def send(base: str) -> None:
        start.wait(timeout=_WAIT)
        answers[base] = _execute(base, 3, key)

    threads = [threading.Thread(target=send, args=(base,)) for base in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=_WAIT)
    assert len(answers) == 2
    assert hits(pg_url, "cancel") == 1
    assert status_of(pg_url, 3) == "cancelled"
    statuses = sorted(status for status, _ in answers.values())
    assert statuses in ([200, 200], [200, 409])  # a replay, or "still running"
    # once it is done, either process replays the stored answer
    assert [_execute(base, 3, key) for base in servers] == [(200, {"result": "cancelled 3"})] * 2
    assert hits(pg_url, "cancel") == 1
    assert [run.status for run in runs(pg_url)].count("succeeded") == 1
