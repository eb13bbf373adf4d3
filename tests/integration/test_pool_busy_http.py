"""More requests at once than the connections flexorm keeps, through the real server (uvicorn
in its own process) on SQLite files, PostgreSQL and MariaDB.

A request that waits past ``pool_timeout`` for a connection answers 503 ``database_busy`` in
the protocol's shape, writes nothing, and leaves the request holding the connection to finish
as usual. It was a 500 with a traceback: the pool's timeout is no database error SQLAlchemy
wraps a driver's in.

``/health`` says the database is busy, not down, at once.

The server keeps one connection per engine (``pool_size=1``, ``max_overflow=0``); an action
takes it, says so with a file, and holds it until the test writes another file.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests._serving import WAIT, serving
from tests.conftest import sync_engine

TOKEN = "busy-key"

SERVER = """
import asyncio
import sys
import time
from pathlib import Path

import sqlalchemy as sa
import uvicorn

from flexorm import ActionContext, Flex, Settings

url, port, token, signals = sys.argv[1], int(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
flex = Flex(url, settings=Settings(tokens=(token,), journal=True, auto_upgrade=True,
                                   pool_size=1, max_overflow=0, pool_timeout=0.2))
NOTE = sa.text("INSERT INTO notes (text) VALUES (:text)")


@flex.action(model="notes")
async def hold(ctx: ActionContext, text: str) -> str:
    await ctx.session.execute(NOTE, {"text": text})
    (signals / f"{text}.held").touch()
    while not (signals / f"{text}.release").exists():
        await asyncio.sleep(0.02)
    return text


@flex.action(model="notes")
async def write(ctx: ActionContext, text: str) -> str:
    await ctx.session.execute(NOTE, {"text": text})
    return text


@flex.action(model="notes")
def hold_sync(ctx: ActionContext, text: str) -> str:
    ctx.session.execute(NOTE, {"text": text})
    (signals / f"{text}.held").touch()
    while not (signals / f"{text}.release").exists():
        time.sleep(0.02)
    return text


@flex.action(model="notes")
def write_sync(ctx: ActionContext, text: str) -> str:
    ctx.session.execute(NOTE, {"text": text})
    return text


uvicorn.run(flex.app, host="127.0.0.1", port=port, log_level="warning")
"""

NOTES = sa.Table("notes", sa.MetaData(),
                 sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("text", sa.String(40), nullable=False))


@pytest.fixture(scope="module")
def server(module_any_url: str,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    url = module_any_url
    engine = sync_engine(url)
    NOTES.metadata.create_all(engine)
    engine.dispose()
    signals = tmp_path_factory.mktemp("signals")
    log = tmp_path_factory.mktemp("server") / "server.log"
    with serving(lambda port: [sys.executable, "-c", SERVER, url, str(port), TOKEN,
                               str(signals)], log) as base:
        yield base, url, signals
    text = log.read_text()
    assert "Traceback" not in text, text


def _send(client: httpx.Client, base: str, action: str, text: str) -> httpx.Response:
    return client.post(f"{base}/api/messages/", headers={"Authorization": f"Bearer {TOKEN}"},
                       json={"name": "execute_action",
                             "params": {"model": "notes", "name": action,
                                        "params": {"text": text}}})


def _notes(url: str) -> list[str]:
    engine = sync_engine(url)
    with engine.connect() as conn:
        texts = sorted(conn.execute(sa.select(NOTES.c.text)).scalars())
    engine.dispose()
    return texts


def _wait_for(path: Path) -> None:
    deadline = time.monotonic() + WAIT
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)


def _healthy(client: httpx.Client, base: str) -> None:
    """``/health`` answers ok once the connections are back (the refused request's journal
    row, written in the background, may hold one a moment)."""
    deadline = time.monotonic() + WAIT
    while (answer := client.get(f"{base}/health")).status_code != 200:
        assert answer.json() == {"status": "busy", "error_code": "database_busy"}
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.02)
    assert answer.json() == {"status": "ok"}


@pytest.mark.parametrize(("hold", "write"), [("hold", "write"), ("hold_sync", "write_sync")])
def test_a_request_finding_every_connection_taken_answers_busy_and_writes_nothing(
        server: tuple[str, str, Path], hold: str, write: str) -> None:
    base, url, signals = server
    held, other = f"{hold}-held", f"{hold}-refused"
    with httpx.Client(timeout=WAIT) as first, httpx.Client(timeout=WAIT) as second:
        holding = first.build_request(
            "POST", f"{base}/api/messages/", headers={"Authorization": f"Bearer {TOKEN}"},
            json={"name": "execute_action",
                  "params": {"model": "notes", "name": hold, "params": {"text": held}}})
        answers: dict[str, Any] = {}
        thread = threading.Thread(target=lambda: answers.update(held=first.send(holding)))
        thread.start()
        try:
            _wait_for(signals / f"{held}.held")
            refused = _send(second, base, write, other)
            health = second.get(f"{base}/health")
        finally:
            (signals / f"{held}.release").touch()
            thread.join(WAIT)
    assert refused.status_code == 503, refused.text
    body = refused.json()
    assert body["error_code"] == "database_busy"
    assert "every connection to the database is in use" in body["error"]
    if hold == "hold":  # the async engine's pool, the one the server's own queries use
        assert (health.status_code, health.json()) == (
            503, {"status": "busy", "error_code": "database_busy"})
    assert answers["held"].status_code == 200, answers["held"].text
    assert answers["held"].json() == {"result": held}
    assert other not in _notes(url)
    assert held in _notes(url)
    with httpx.Client(timeout=WAIT) as client:  # the connection is back: served again
        again = _send(client, base, write, other)
        _healthy(client, base)
    assert again.status_code == 200, again.text
    assert other in _notes(url)
