"""``flexorm worker --concurrency N`` makes room in the pools for its N runs."""

from __future__ import annotations

import pytest

from flexorm import Settings
from flexorm.cli.worker import room_for


@pytest.mark.parametrize(("pool_size", "max_overflow", "concurrency", "changed"), [
    (5, 10, 1, {}),  # the defaults hold one run and a few more
    (5, 10, 13, {}),  # 15 connections: 13 runs, a cancel and the claims
    (5, 10, 14, {"max_overflow": 11}),
    (5, 10, 50, {"max_overflow": 47}),
    (1, 0, 4, {"max_overflow": 5}),
])
def test_a_worker_gets_a_connection_for_each_run_it_runs_at_once(
        pool_size: int, max_overflow: int, concurrency: int, changed: dict[str, int]) -> None:
    settings = Settings(pool_size=pool_size, max_overflow=max_overflow)
    assert room_for(settings, concurrency) == changed
    roomy = settings.with_(**changed)
    assert roomy.pool_size + roomy.max_overflow >= concurrency + 2
