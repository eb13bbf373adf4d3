"""``flexorm worker``'s loop: procrastinate's worker running flexorm's one task, and a sweeper.

Each job names a run; the task claims it and runs it through the action service
(:class:`~flexorm.background.executor.RunExecutor`), so a job delivered twice, late, or after
its run was cancelled does nothing. A cancel reaches the task through procrastinate's abort
notification (LISTEN/NOTIFY), which the run's watcher turns into a stop at the body's next
statement or progress call.

The sweeper, every heartbeat, in every worker (they race safely: every change is conditional):

- jobs of workers whose heartbeat stopped (killed, machine gone) are closed;
- runs a worker left ``running`` with no job going on for them (their job was just closed, or
  was closed by a sweeper that stopped before it recovered the run, or their worker could not
  record their end) are queued again while ``retries`` are left, else ``interrupted``: the
  journal, not the sweeper's memory, says what is left to recover;
- queued runs whose job was never deferred (the server stopped between its commit and the
  defer) are deferred;
- queued runs past ``expires_after`` expire; finished runs past the retention are deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flexorm.actions.service import ActionService
from flexorm.background.executor import RunExecutor
from flexorm.background.processes import worker_name
from flexorm.background.queue import TASK, Queue
from flexorm.background.sweep import expire_and_prune, recover_runs
from flexorm.database import Database
from flexorm.journal import Journal
from flexorm.journal.entry import utcnow
from flexorm.settings import Settings

if TYPE_CHECKING:
    from procrastinate import App, JobContext

__all__ = ["run_worker"]

logger = logging.getLogger("flexorm.background")

LOST_AFTER = dt.timedelta(seconds=5)
"""A queued run without a job for this long is deferred again."""
PRUNE_SECONDS = 60.0


def _task(executor: RunExecutor) -> Callable[..., Any]:
    from procrastinate.job_context import AbortReason

    async def flexorm_run(context: JobContext, run: int) -> str:
        def aborted() -> bool:
            return context.abort_reason() == AbortReason.USER_REQUEST

        inner = asyncio.ensure_future(executor.execute(int(run), abort_requested=aborted))
        while True:
            try:
                return await asyncio.shield(inner)
            except asyncio.CancelledError:
                if inner.done():
                    raise
                if aborted():  # a cancel: the watcher stops the run at its next poll
                    continue
                control = executor.controls.get(int(run))
                if control is not None:  # the worker is stopping: retried or interrupted
                    control.stop("shutdown")
                with contextlib.suppress(Exception):
                    await inner
                raise

    return flexorm_run


async def _sweep(app: App, journal: Journal, queue: Queue, settings: Settings) -> None:
    from procrastinate.jobs import Status

    heartbeat = settings.worker_heartbeat_seconds
    loop = asyncio.get_running_loop()
    pruned = 0.0
    while True:
        await asyncio.sleep(heartbeat)
        try:
            if loop.time() - pruned > PRUNE_SECONDS:
                pruned = loop.time()
                await expire_and_prune(journal, settings.run_retention_days)
            stalled = await app.job_manager.get_stalled_jobs(
                task_name=TASK, seconds_since_heartbeat=3 * heartbeat)
            for job in stalled:
                assert job.id is not None
                with contextlib.suppress(Exception):  # another worker's sweeper took it
                    await app.job_manager.finish_job_by_id_async(job.id, Status.FAILED,
                                                                 delete_job=True)
            await _recover_orphans(app, journal, queue)
            async with journal.engine.connect() as conn:
                lost = await journal.background.queued(conn, without_job=True,
                                                       older_than=utcnow() - LOST_AFTER)
            for run_id in lost:
                await queue.queued(run_id)
        except Exception:
            logger.exception("the background sweeper failed; trying again")


async def _recover_orphans(app: App, journal: Journal, queue: Queue) -> None:
    """Runs a worker left ``running`` while no job of theirs is ``doing``: queued again (and
    deferred) or ``interrupted``.

    The runs are read before the jobs: a run still ``running`` then had its job ``doing`` (a
    job ends only after its run did), so a run missing from the jobs read after it has no job
    going on, or has just finished; recovering it is conditional on its attempt, so a run
    that finished or moved on in between is left as it is.
    """
    from procrastinate.jobs import Status

    async with journal.engine.connect() as conn:
        running = await journal.background.running(conn, worker_like="worker:%")
    if not running:
        return
    doing = {int(job.task_kwargs["run"])  # type: ignore[arg-type]
             for job in await app.job_manager.list_jobs_async(task=TASK,
                                                              status=Status.DOING.value)}
    orphans = [run for run in running if run.id not in doing]
    for run, outcome in zip(orphans, await recover_runs(journal, orphans), strict=True):
        if outcome == "requeued":
            await queue.queued(run.id)


async def run_worker(service: Callable[[], ActionService], journal: Journal,
                     database: Database, queue: Queue, settings: Settings, *,
                     concurrency: int = 1, name: str | None = None,
                     wait: bool = True) -> None:
    """Run background runs from the queue until the process is asked to stop (SIGINT,
    SIGTERM: runs going on stop at their next statement and are retried or interrupted);
    ``wait=False``: until the queue is empty."""
    executor = RunExecutor(service, journal, database, name or worker_name("worker"))
    queue.pool_size = concurrency + 4
    app = await queue.app()
    app.task(name=TASK, pass_context=True)(_task(executor))
    sweeper = asyncio.create_task(_sweep(app, journal, queue, settings),
                                  name="flexorm background sweeper")
    heartbeat = settings.worker_heartbeat_seconds
    try:
        await app.run_worker_async(
            concurrency=concurrency, name=executor.worker, delete_jobs="successful", wait=wait,
            install_signal_handlers=wait,
            update_heartbeat_interval=heartbeat, stalled_worker_timeout=3 * heartbeat,
            abort_job_polling_interval=max(heartbeat, 1.0),
            # asked to stop: runs going on stop now (retried or interrupted), as the docs say,
            # rather than the worker waiting for them past any deployment's grace period
            shutdown_graceful_timeout=0)
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        await executor.close()
