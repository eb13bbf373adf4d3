"""A throwaway PostgreSQL server for the test suite and the benchmarks.

``FLEXORM_TEST_POSTGRES_URL`` names a server to use instead (its user must be able to create
databases). Otherwise the server binaries of Debian's ``postgresql`` package are found, a cluster is
initialised in a temporary folder and started on a free loopback port; PostgreSQL refuses to run as
root, so as root the cluster belongs to the ``postgres`` user and its commands run as that user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from devservers.net import free_port

__all__ = ["PostgresUnavailable", "running_server"]


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    raise PostgresUnavailable(
        "no PostgreSQL server binaries: install Debian's postgresql package or set "
        "FLEXORM_TEST_POSTGRES_URL"
    )


def _run(args: list[str], as_user: str | None) -> None:
    command = ["runuser", "-u", as_user, "--", *args] if as_user else args
    subprocess.run(command, check=True, capture_output=True, text=True)


@contextlib.contextmanager
def running_server() -> Iterator[str]:
    """Start a server and yield its URL (to the ``postgres`` database); stop it afterwards."""
    if os.environ.get("FLEXORM_TEST_POSTGRES_URL"):
        yield os.environ["FLEXORM_TEST_POSTGRES_URL"]
        return
    bindir = _bindir()
    as_user = "postgres" if os.geteuid() == 0 else None
    workdir = Path(tempfile.mkdtemp(prefix="flexorm-pg-"))
    data = workdir / "data"
    if as_user:
        entry = pwd.getpwnam(as_user)
        os.chown(workdir, entry.pw_uid, entry.pw_gid)
    port = free_port()
    try:
        _run([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
              "-E", "UTF8", "--no-sync", "--locale=C"], as_user)
        options = (f"-p {port} -c listen_addresses=127.0.0.1 -k {workdir} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
              str(workdir / "server.log"), "-w", "-t", "60", "start"], as_user)
    except subprocess.CalledProcessError as exc:
        log = workdir / "server.log"
        detail = log.read_text() if log.exists() else ""
        shutil.rmtree(workdir, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}\n{detail}") from exc
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                 as_user)
        shutil.rmtree(workdir, ignore_errors=True)
