"""Background actions: how fast ``execute_action`` answers a queued run, and how many runs one
worker gets through.

- answer time: ``ActionService.execute`` of a background action (validate, check, write the
  queued row, hand it to the runner), p50 and p99 over many calls, beside a foreground action
  with the same trivial body answered directly. SQLite runs them in the server process;
  PostgreSQL defers a procrastinate job.
- worker throughput (PostgreSQL): runs queued beforehand, then one worker with concurrency 1
  drains them (claim, the same transaction as a direct run with the journal row, the job
  acknowledged), beside bare procrastinate draining as many jobs of an empty task with the same
  worker options: as procrastinate comes, and on the connector flexorm gives it (autocommit, no
  check statement); and beside two floors, on flexorm's connector:

  - blocking: bare procrastinate whose task commits one ``UPDATE`` in a transaction of its own
    from a worker thread (a plain SQLAlchemy engine, no ping), the least a run whose effects
    and completion commit together writes with a blocking body;
  - raw driver: bare procrastinate whose task does what a run of a trivial body must do and
    nothing else, on a psycopg connection kept open in autocommit (no pool, no SQLAlchemy, no
    thread): the claim (``UPDATE ... RETURNING``) and the completion ``UPDATE``, each a
    statement by itself, as flexorm sends them when the body sent nothing.

  All in this process, in alternation, timed from the worker's start to the empty queue. Then
  again with concurrency 4 (what the docs deploy), flexorm beside bare procrastinate alone.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Coroutine
from typing import Any

from bench.stats import Sample
from flexorm import ActionContext, Flex
from flexorm.auth.caller import Caller
from flexorm.protocol.requests import ExecuteRequest
from flexorm.settings import Settings

CALLER = Caller(kind="key", key_name="bench")


def _flex(url: str, runner: str) -> Flex:
    flex = Flex(url, settings=Settings(tokens=("bench-token",), auto_upgrade=True,
                                       background_runner=runner, worker_heartbeat_seconds=5.0))

    @flex.action(background=True)
    def later(ctx: ActionContext, note: str = "") -> str:
        return note

    @flex.action
    def now(ctx: ActionContext, note: str = "") -> str:
        return note

    return flex


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def _answer_times(url: str, runner: str, calls: int) -> dict[str, Any]:
    times: dict[str, list[float]] = {"later": [], "now": []}
    async with _flex(url, runner).runtime() as runtime:
        for name in ("later", "now"):  # warm up
            await runtime.actions.execute(ExecuteRequest(action=name), caller=CALLER)
        for i in range(calls):
            for name in ("later", "now"):
                request = ExecuteRequest(action=name, params={"note": str(i)})
                start = time.perf_counter()
                await runtime.actions.execute(request, caller=CALLER)
                times[name].append(time.perf_counter() - start)
    return {name: {"p50_ms": statistics.median(v) * 1000, "p99_ms": _pct(v, 99) * 1000}
            for name, v in times.items()}


def answer_times(url: str, calls: int) -> dict[str, Any]:
    """p50 / p99 of a background answer and of a direct one (ms)."""
    runner = "queue" if url.startswith("postgresql") else "embedded"
    return asyncio.run(_answer_times(url, runner, calls))


def _empty_queue(url: str) -> None:
    """Delete the jobs waiting in the queue (the answer-time benchmark queues runs no worker
    took): each drain is timed over its own jobs only."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            if sa.inspect(conn).has_table("procrastinate_jobs"):
                conn.exec_driver_sql("DELETE FROM procrastinate_jobs WHERE status = 'todo'")
    finally:
        engine.dispose()


async def _flexorm_drain(url: str, runs: int, concurrency: int = 1) -> float:
    from flexorm.background.queue import Queue
    from flexorm.background.worker import run_worker

    async with _flex(url, "queue").runtime() as runtime:
        queue = runtime.background
        assert isinstance(queue, Queue)
        assert runtime.journal is not None
        for i in range(runs):
            await runtime.actions.execute(ExecuteRequest(action="later", params={"note": str(i)}),
                                          caller=CALLER)
        start = time.perf_counter()
        await run_worker(lambda: runtime.actions, runtime.journal, runtime.database, queue,
                         runtime.settings, concurrency=concurrency, wait=False)
        return time.perf_counter() - start


async def _drain_timed(app: Any, task: Any, jobs: list[dict[str, Any]],
                       concurrency: int = 1) -> float:
    """Defer ``jobs`` of ``task``, then time one worker of ``app`` (the same options for every
    bare contender) until the queue is empty."""
    async with app.open_async():
        await task.batch_defer_async(*jobs)
        start = time.perf_counter()
        await app.run_worker_async(concurrency=concurrency, wait=False,
                                   delete_jobs="successful",
                                   install_signal_handlers=False, update_heartbeat_interval=5.0)
        return float(time.perf_counter() - start)


def _app(url: str, *, tuned: bool) -> Any:
    """procrastinate's ``App``: with its default connector, or (``tuned``) with the one flexorm
    gives it (autocommit, no check statement)."""
    import procrastinate

    from flexorm.background.queue import connector, conninfo

    info = conninfo(url)
    return procrastinate.App(connector=connector(info, 5) if tuned else
                             procrastinate.PsycopgConnector(conninfo=info, min_size=1,
                                                            max_size=5))


async def _bare_drain(url: str, runs: int, *, commit: bool = False,
                      tuned: bool = False, concurrency: int = 1) -> float:
    """Bare procrastinate: an empty task, or (``commit``) one committing an ``UPDATE`` from a
    worker thread; ``tuned``: on flexorm's connector."""
    import anyio.to_thread
    import sqlalchemy as sa

    app = _app(url, tuned=tuned)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS bench_floor (id INTEGER PRIMARY KEY, "
                             "n INTEGER NOT NULL)")
        conn.exec_driver_sql("INSERT INTO bench_floor VALUES (1, 0) ON CONFLICT DO NOTHING")
    bump = sa.text("UPDATE bench_floor SET n = n + 1 WHERE id = 1")

    def write() -> None:
        with engine.begin() as conn:
            conn.execute(bump)

    @app.task(name="bench.empty", pass_context=True)
    async def empty(context: Any, note: str) -> str:
        if commit:
            await anyio.to_thread.run_sync(write)
        return note

    try:
        return await _drain_timed(app, empty, [{"note": str(i)} for i in range(runs)],
                                  concurrency)
    finally:
        engine.dispose()


_CLAIM = ("UPDATE bench_runs SET status = 'running', attempts = attempts + 1 "
          "WHERE id = %s AND status = 'queued' RETURNING attempts")
_COMPLETE = ("UPDATE bench_runs SET status = 'succeeded', result = %s "
             "WHERE id = %s AND status = 'running' AND attempts = %s")


async def _raw_drain(url: str, runs: int) -> float:
    """Bare procrastinate whose task claims a run and records its completion, on a raw psycopg
    connection kept open: the least a run of a trivial body with flexorm's guarantees
    sends."""
    import psycopg

    from flexorm.background.queue import conninfo

    info = conninfo(url)
    app = _app(url, tuned=True)
    conn = await psycopg.AsyncConnection.connect(info, autocommit=True)
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS bench_runs (id INTEGER PRIMARY KEY, "
                             "status TEXT NOT NULL, attempts INTEGER NOT NULL, result TEXT)")
        await conn.execute("TRUNCATE bench_runs")
        await conn.execute("INSERT INTO bench_runs SELECT n, 'queued', 0, NULL "
                             "FROM generate_series(1, %s) AS n", (runs,))

        @app.task(name="bench.raw", pass_context=True)
        async def raw(context: Any, run: int) -> int:
            cursor = await conn.execute(_CLAIM, (run,))
            claimed = await cursor.fetchone()
            assert claimed is not None
            await conn.execute(_COMPLETE, (str(run), run, claimed[0]))
            return run

        return await _drain_timed(app, raw, [{"run": n} for n in range(1, runs + 1)])
    finally:
        await conn.close()


def throughput(url: str, runs: int, repeat: int, *,
               concurrency: int = 1) -> dict[str, Sample]:
    """Runs (jobs) per second through one worker: flexorm, bare procrastinate (as it comes, and
    on flexorm's connector) and the two floors on flexorm's connector (one committed ``UPDATE``
    per job from a thread; a claim and a completion on the raw driver), in alternation: each
    round runs every contender once, in the reverse order of the round before.

    With a ``concurrency`` above 1 (the worker's ``--concurrency``), only flexorm and bare
    procrastinate as it comes: the floors are the costs of one run at a time."""
    drains: dict[str, Callable[[], Coroutine[Any, Any, float]]] = {
        "flexorm": lambda: _flexorm_drain(url, runs, concurrency),
        "bare": lambda: _bare_drain(url, runs, concurrency=concurrency),
    }
    if concurrency == 1:
        drains.update({
            "tuned": lambda: _bare_drain(url, runs, tuned=True),
            "floor": lambda: _bare_drain(url, runs, commit=True, tuned=True),
            "raw": lambda: _raw_drain(url, runs),
        })
    results: dict[str, list[float]] = {name: [] for name in drains}
    for round_ in range(repeat):
        order = list(drains) if round_ % 2 == 0 else list(reversed(drains))
        for name in order:
            _empty_queue(url)
            results[name].append(runs / asyncio.run(drains[name]()))
    return {name: Sample(tuple(values)) for name, values in results.items()}
