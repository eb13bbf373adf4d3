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

__all__ = ["alive_here", "dead_here", "worker_name"]

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
    does this very process, nor a process that was killed and not yet reaped by its parent (a
    zombie: it runs nothing any more).

    ``False`` whenever it cannot be told: a name from another machine or of another form, or
    no ``since``.
    """
    pid = _other_pid_here(worker)
    if pid is None or since is None or not _exists(pid):
        return False
    started = _started(pid)
    if started is None:  # no /proc: a live process id is all there is to go on
        return True
    return started <= _utc(since) + START_SLACK


def dead_here(worker: str | None, since: dt.datetime | None) -> bool:
    """Whether the process named ``worker`` was another process of this machine that has
    ended (killed, or a zombie its parent has not reaped), or whose id a process started after
    ``since`` now has: the runs it left ``running`` are nobody's.

    ``False`` whenever it cannot be told (a name from another machine or of another form, this
    very process), unlike :func:`alive_here`: a runner that is already running may take the
    runs of a process only once it knows that process is gone.
    """
    pid = _other_pid_here(worker)
    if pid is None:
        return False
    if not _exists(pid):
        return True
    started = _started(pid) if since is not None else None
    return started is not None and since is not None and started > _utc(since) + START_SLACK


def _other_pid_here(worker: str | None) -> int | None:
    """The process id in ``worker``'s name when it names another process of this machine."""
    parts = (worker or "").split(":")
    if len(parts) != 4 or parts[1] != socket.gethostname():
        return None
    try:
        pid = int(parts[2])
    except ValueError:
        return None
    if pid <= 0 or pid == os.getpid():
        return None
    return pid


def _exists(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (dead, waiting for its parent to
    read its exit status: Linux's ``/proc`` tells; elsewhere it counts as existing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        pass
    except OSError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:  # gone since the signal, or no /proc at all
        return not Path("/proc/self/stat").exists()
    except OSError:
        return True
    # the field after the command name (which may hold spaces) is the state
    state = stat.rpartition(")")[2].split()[:1]
    return state not in (["Z"], ["X"])


def _utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` with its zone (a naive time is UTC, as SQLite and MariaDB give them)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


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
