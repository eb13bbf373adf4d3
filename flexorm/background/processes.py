"""The processes that run background runs: the name each one writes on the runs it claims, and
whether a process so named still runs on this machine.

A name is ``kind:host:pid:tag`` (``server`` or ``worker``, the machine's host name, the process
id, and a tag unique to the process's start).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from pathlib import Path

__all__ = ["alive_here", "worker_name"]

START_SLACK = dt.timedelta(seconds=2)
"""How much later than a run's start its process may seem to have started: the kernel counts a
process's start from the boot time, which it gives in whole seconds."""


def worker_name(kind: str) -> str:
    """This process's name in the journal's ``worker`` column: unique per process start."""
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def alive_here(worker: str | None, since: dt.datetime | None) -> bool:
    """Whether the process named ``worker`` is another process of this machine that is
    running, and was already running at ``since`` (the start of the run it claimed): then the
    run is its own, going on. A process id used again by a newer process does not count, nor
    does this very process.

    ``False`` whenever it cannot be told: a name from another machine or of another form, or
    no ``since``.
    """
    parts = (worker or "").split(":")
    if len(parts) != 4 or parts[1] != socket.gethostname() or since is None:
        return False
    try:
        pid = int(parts[2])
    except ValueError:
        return False
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        pass
    except OSError:
        return False
    started = _started(pid)
    if started is None:  # no /proc: a live process id is all there is to go on
        return True
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    return started <= since + START_SLACK


def _started(pid: int) -> dt.datetime | None:
    """When process ``pid`` started, from Linux's ``/proc``; ``None`` elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        # the fields after the command name (which may hold spaces) start with field 3;
        # field 22 is the start, in clock ticks after the boot
        ticks = int(stat.rpartition(")")[2].split()[19])
        per_second = os.sysconf("SC_CLK_TCK")
    except (OSError, StopIteration, ValueError, IndexError):
        return None
    return dt.datetime.fromtimestamp(boot + ticks / per_second, dt.UTC)
