"""The background test app as ``flexorm worker`` and ``flexorm serve`` import it
(``--app tests.integration._background_app:flex``): the database from
``FLEXORM_DATABASE_URL``, flexorm's tables in ``FLEXORM_STATE_URL`` when set (migrated by
``flexorm db upgrade`` when ``FLEXORM_AUTO_UPGRADE`` is ``0``), the runner from
``FLEXORM_BACKGROUND_RUNNER`` (by default the queue), a short heartbeat from
``FLEXORM_WORKER_HEARTBEAT_SECONDS``."""

from __future__ import annotations

import os

from tests.integration._background_shop import make_flex

flex = make_flex(os.environ["FLEXORM_DATABASE_URL"],
                 background_runner=os.environ.get("FLEXORM_BACKGROUND_RUNNER", "queue"),
                 state_url=os.environ.get("FLEXORM_STATE_URL") or None,
                 auto_upgrade=os.environ.get("FLEXORM_AUTO_UPGRADE", "1") != "0",
                 worker_heartbeat_seconds=float(os.environ["FLEXORM_WORKER_HEARTBEAT_SECONDS"]))
