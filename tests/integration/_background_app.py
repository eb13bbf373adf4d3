"""The background test app as ``flexorm worker --app tests.integration._background_app:flex``
imports it: the database from ``FLEXORM_DATABASE_URL``, a short heartbeat from
``FLEXORM_WORKER_HEARTBEAT_SECONDS``."""

from __future__ import annotations

import os

from tests.integration._background_shop import make_flex

flex = make_flex(os.environ["FLEXORM_DATABASE_URL"], background_runner="queue",
                 worker_heartbeat_seconds=float(os.environ["FLEXORM_WORKER_HEARTBEAT_SECONDS"]))
