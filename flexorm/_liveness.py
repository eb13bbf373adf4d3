"""Knowing that a pooled connection is still open, without a round trip to the server.

SQLAlchemy's ``pool_pre_ping`` sends a statement each time the pool hands out a connection: one
round trip more for every action. On psycopg connections flexorm looks instead at what the
server sent while the connection sat in the pool. A server that restarts, or that terminates a
backend, sends its reason and closes the connection; an idle connection's socket has nothing to
read. So a socket with something to read, or with an error or a hang-up, is taken for closed,
and the pool opens a new connection in its place (SQLAlchemy's documented way: the ``checkout``
listener raises ``DisconnectionError``). At worst a healthy connection with a stray
notification is replaced.

Other drivers keep the ping.
"""

from __future__ import annotations

import select
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

__all__ = ["PINGLESS_DRIVERS", "check_on_checkout", "looks_open"]

PINGLESS_DRIVERS = frozenset({"psycopg"})
"""The drivers whose connections :func:`looks_open` can read."""


def looks_open(driver_connection: Any) -> bool:
    """Whether a psycopg connection that sits idle is still open: not closed, outside any
    transaction, and nothing arrived on its socket since its last answer."""
    import psycopg
    from psycopg import pq

    if driver_connection.closed \
            or driver_connection.info.transaction_status != pq.TransactionStatus.IDLE:
        return False
    try:
        fd = driver_connection.fileno()
    except psycopg.Error:  # a connection without a socket is not open
        return False
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLPRI)
        return not poller.poll(0)
    readable, _, broken = select.select([fd], [], [fd], 0)
    return not (readable or broken)


def check_on_checkout(engine: Engine) -> None:
    """Check each connection ``engine``'s pool hands out with :func:`looks_open` (the engine is
    created without ``pool_pre_ping``)."""

    @event.listens_for(engine, "checkout")
    def _open(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", dbapi_connection)
        if not looks_open(driver):
            raise DisconnectionError("the database closed this connection while it was idle")
