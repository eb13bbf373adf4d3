"""Running background actions: claiming a queued run, watching it, recording how it ended.

- :mod:`~flexorm.background.executor`: one run, start to finish, in any process.
- :mod:`~flexorm.background.embedded`: the server process runs its own queued runs (SQLite,
  MariaDB: one process).
- :mod:`~flexorm.background.queue`: procrastinate's PostgreSQL queue, imported only when used.
- :mod:`~flexorm.background.worker`: ``flexorm worker``.
- :mod:`~flexorm.background.sweep`: what every runner does now and then: expiry, runs of dead
  processes, retention.
"""
