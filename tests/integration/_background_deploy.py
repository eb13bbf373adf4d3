"""Background actions deployed as a user runs them, for the tests: ``flexorm db upgrade``,
``flexorm serve`` and ``flexorm worker`` processes of the background test app
(:mod:`tests.integration._background_app`), requests to the real server as Jet Admin sends
them, and the journal read where it lives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from flexorm.journal.entry import RunEntry
from flexorm.journal.tables import FINISHED_STATUSES, action_runs
from tests._serving import WAIT, serving
from tests.conftest import sync_engine
from tests.integration._background_shop import AUTH

__all__ = ["APP", "HEARTBEAT", "ROOT", "StateJournal", "Workers", "cli", "execute", "server",
           "signal_from"]

ROOT = Path(__file__).resolve().parents[2]
HEARTBEAT = "0.5"
APP = "tests.integration._background_app:flex"
_FLEXORM = [sys.executable, "-c", "from flexorm.cli import main; main()"]


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``flexorm ARGS`` in a process of its own (``env``: added to this process's)."""
    return subprocess.run([*_FLEXORM, *args], cwd=ROOT, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=120, check=False)


class Workers:
    """``flexorm worker`` processes of the test app, stopped at the end of the test.

    Args:
        url: the database actions write to (``FLEXORM_DATABASE_URL``).
        logs: the folder of their logs, and of the bodies' signals.
        env: more variables (a separate state database, ``FLEXORM_AUTO_UPGRADE``).
    """

    def __init__(self, url: str, logs: Path, env: dict[str, str] | None = None) -> None:
        self.url = url
        self.env = {**os.environ, "FLEXORM_DATABASE_URL": url,
                    "FLEXORM_TEST_SIGNALS": str(logs),
                    "FLEXORM_WORKER_HEARTBEAT_SECONDS": HEARTBEAT, **(env or {})}
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs = logs

    def start(self, concurrency: int = 2) -> subprocess.Popen[bytes]:
        log = self.logs / f"worker-{len(self.processes)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*_FLEXORM, "worker", "--app", APP, "--concurrency", str(concurrency)],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def server(env: dict[str, str], log: Path) -> Iterator[str]:
    """``flexorm serve --app`` of the test app (``env``: its ``FLEXORM_*`` variables); its base
    URL once it answers."""
    variables = {"FLEXORM_WORKER_HEARTBEAT_SECONDS": HEARTBEAT, **env}
    cache = os.environ.get("FLEXORM_CACHE_DIR")
    if cache is not None:
        variables.setdefault("FLEXORM_CACHE_DIR", cache)
    with serving(lambda port: [*_FLEXORM, "serve", "--app", APP, "--port", str(port)], log,
                 cwd=ROOT, env=variables) as base:
        yield base


def execute(base: str, action: str, *, ids: list[Any] | None = None, key: str | None = None,
            **params: Any) -> tuple[int, Any]:
    """``execute_action`` of ``action`` (on ``items`` when ``ids`` are given), as Jet Admin sends
    it; the status and the JSON answer."""
    message: dict[str, Any] = {"name": action, "params": params}
    if ids is not None:
        message.update(model="items", ids=ids)
    headers = {**AUTH, **({"Idempotency-Key": key} if key is not None else {})}
    response = httpx.post(f"{base}/api/messages/", headers=headers, timeout=WAIT,
                          json={"name": "execute_action", "params": message})
    return response.status_code, response.json()


def queued_run(answer: tuple[int, Any]) -> int:
    """The run id of a queued answer (asserting its shape)."""
    status, body = answer
    result = body.get("result") if isinstance(body, dict) else None
    run = result.get("run") if isinstance(result, dict) else None
    assert isinstance(run, str), body
    assert run.isdigit(), body
    assert (status, body) == (200, {"result": {"run": run, "status": "queued"}})
    return int(run)


class StateJournal:
    """The runs in flexorm's state database, read as a user's own client would."""

    def __init__(self, url: str) -> None:
        self.engine = sync_engine(url)

    def close(self) -> None:
        self.engine.dispose()

    def runs(self, action: str | None = None) -> list[RunEntry]:
        """Every run (of ``action``), oldest first."""
        query = sa.select(action_runs).order_by(action_runs.c.id)
        if action is not None:
            query = query.where(action_runs.c.action == action)
        with self.engine.connect() as conn:
            return [RunEntry.from_row(dict(row)) for row in conn.execute(query).mappings()]

    def get(self, run_id: int) -> RunEntry:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(action_runs).where(action_runs.c.id == run_id)) \
                .mappings().one()
        return RunEntry.from_row(dict(row))

    def column(self, run_id: int, name: str) -> Any:
        """A column of a run's row that :class:`RunEntry` does not show (``worker``,
        ``checkpoint``)."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(action_runs.c[name])
                                .where(action_runs.c.id == run_id)).scalar_one()

    def wait_for(self, run_id: int, statuses: tuple[str, ...] = FINISHED_STATUSES,
                 until: Any = None) -> RunEntry:
        """The run once its status is one of ``statuses`` and ``until(entry)`` holds (a bound on
        the wait, not a check: the caller asserts what it got)."""
        deadline = time.monotonic() + WAIT
        while True:
            entry = self.get(run_id)
            reached = entry.status in statuses and (until is None or until(entry))
            if reached or time.monotonic() > deadline:
                return entry
            time.sleep(0.05)


def signal_from(folder: Path, name: str) -> int:
    """The pid of the process whose body signalled ``name`` in ``folder`` (a bound on the
    wait, not a check)."""
    deadline = time.monotonic() + WAIT
    while True:
        found = [int(path.suffix[1:]) for path in folder.glob(f"{name}.*")]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"nothing signalled {name}"
        time.sleep(0.05)
