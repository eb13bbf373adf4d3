"""What every process running background actions does now and then.

- queued runs past their ``expires_at`` become ``expired`` (even when no worker is free);
- finished runs older than ``run_retention_days`` are deleted;
- runs left ``running`` by a process that died are queued again (``retries``) or
  ``interrupted``: their transaction died with the process, so nothing of them was committed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from flexorm.journal import Journal
from flexorm.journal.entry import utcnow
from flexorm.journal.runs import Running

__all__ = ["expire_and_prune", "recover_runs"]

logger = logging.getLogger("flexorm.background")


async def expire_and_prune(journal: Journal, retention_days: int | None) -> None:
    """Expire overdue queued runs; delete finished runs past the retention."""
    async with journal.engine.begin() as conn:
        expired = await journal.background.expire_overdue(conn)
        pruned = 0
        if retention_days is not None:
            pruned = await journal.background.prune(
                conn, utcnow() - dt.timedelta(days=retention_days))
    if expired or pruned:
        logger.info("background runs: %d expired, %d pruned", expired, pruned)


async def recover_runs(journal: Journal, runs: Iterable[Running]) -> list[str]:
    """Runs of dead processes: queued again or interrupted; what became of each."""
    outcomes: list[str] = []
    for run in runs:
        payload = run.payload
        retries = int(payload.get("retries") or 0) if isinstance(payload, dict) else 0
        async with journal.engine.begin() as conn:
            outcome = await journal.background.recover(conn, run.id, run.attempt, retries)
        if outcome != "gone":  # gone: it ended or moved on meanwhile
            logger.warning("run %s was left running by a process that stopped: %s", run.id,
                           outcome)
        outcomes.append(outcome)
    return outcomes
