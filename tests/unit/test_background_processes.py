"""Whether a process named in the journal still runs on this machine, told with real
processes: one that runs, one that has ended, and process ids of other machines or forms."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from flexorm.background.processes import alive_here, dead_here, worker_name

HOST = socket.gethostname()


@pytest.fixture
def sibling() -> Iterator[int]:
    """Another process of this machine, running until the test ends: its id."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        yield process.pid
    finally:
        process.kill()
        process.wait()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_this_process_names_itself_by_host_and_id() -> None:
    kind, host, pid, tag = worker_name("server").split(":")
    assert (kind, host, int(pid), len(tag)) == ("server", HOST, os.getpid(), 8)
    assert worker_name("server") != worker_name("server")


def test_a_running_process_that_started_before_the_run_is_alive(sibling: int) -> None:
    time.sleep(0.1)
    assert alive_here(f"server:{HOST}:{sibling}:a1b2c3d4", now())
    # naive times are UTC, as SQLite and MariaDB give them back
    assert alive_here(f"server:{HOST}:{sibling}:a1b2c3d4", now().replace(tzinfo=None))


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="start times come from /proc")
def test_a_process_that_started_after_the_run_is_not_its_runner(sibling: int) -> None:
    # its id was the dead runner's, used again
    assert not alive_here(f"server:{HOST}:{sibling}:a1b2c3d4", now() - dt.timedelta(hours=1))


def test_an_ended_process_this_process_and_other_names_are_not_alive(sibling: int) -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    gone = int(ended.stdout)
    for name in [f"server:{HOST}:{gone}:a1b2c3d4", f"server:{HOST}:{os.getpid()}:a1b2c3d4",
                 f"server:another-{HOST}:{sibling}:a1b2c3d4", f"server:{HOST}:x:a1b2c3d4",
                 f"server:{HOST}:{sibling}", f"server:{HOST}:0:a1b2c3d4", "", None]:
        assert not alive_here(name, now()), name
    assert not alive_here(f"server:{HOST}:{sibling}:a1b2c3d4", None)


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="states come from /proc")
def test_a_killed_process_its_parent_has_not_reaped_is_dead() -> None:
    """A server killed with SIGKILL stays a zombie until its parent reads its exit status;
    the server started in its place took it for alive, and left its runs ``running``."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        time.sleep(0.1)
        name, since = f"server:{HOST}:{process.pid}:a1b2c3d4", now()
        assert alive_here(name, since)
        assert not dead_here(name, since)
        process.kill()
        for _ in range(600):  # a bound on the wait for the kill to land, not a measure
            if not alive_here(name, since):
                break
            time.sleep(0.05)
        assert process.returncode is None  # not reaped: a zombie
        assert not alive_here(name, since)
        assert dead_here(name, since)
    finally:
        process.kill()
        process.wait()
    assert dead_here(name, since)  # reaped: gone


def test_only_a_process_of_this_machine_known_to_have_ended_is_dead(sibling: int) -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    assert dead_here(f"server:{HOST}:{int(ended.stdout)}:a1b2c3d4", now())
    assert dead_here(f"server:{HOST}:{int(ended.stdout)}:a1b2c3d4", None)
    for name in [f"server:{HOST}:{sibling}:a1b2c3d4", f"server:{HOST}:{os.getpid()}:a1b2c3d4",
                 f"server:another-{HOST}:{int(ended.stdout)}:a1b2c3d4",
                 f"server:{HOST}:x:a1b2c3d4", f"server:{HOST}:0:a1b2c3d4", "", None]:
        assert not dead_here(name, now()), name
    assert not dead_here(f"server:{HOST}:{sibling}:a1b2c3d4", None)
    if os.path.exists("/proc/self/stat"):  # its id used again by a newer process
        assert dead_here(f"server:{HOST}:{sibling}:a1b2c3d4", now() - dt.timedelta(hours=1))
