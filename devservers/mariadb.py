"""A throwaway MariaDB server for the test suite and the benchmarks.

``FLEXORM_TEST_MARIADB_URL`` names a server to use instead (its user must be able to
create databases). Otherwise the binaries of Debian's ``mariadb-server`` package start a server
in a temporary folder on a free loopback port; as root it runs as the ``mysql`` user.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from devservers.net import free_port

__all__ = ["MariaDBUnavailable", "running_server"]

USER, PASSWORD = "flexorm", "flexorm-test"


class MariaDBUnavailable(RuntimeError):
    """No MariaDB server binaries on this machine."""


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
        if found:
            return found
    raise MariaDBUnavailable(
        f"no MariaDB server binaries ({names[0]}): install Debian's mariadb-server package or "
        "set FLEXORM_TEST_MARIADB_URL"
    )


@contextlib.contextmanager
def running_server() -> Iterator[str]:
    """Start a server and yield a URL without a database (``mysql://user:pw@host:port/``)."""
    if os.environ.get("FLEXORM_TEST_MARIADB_URL"):
        yield os.environ["FLEXORM_TEST_MARIADB_URL"]
        return
    server = _binary("mariadbd", "mysqld")
    install = _binary("mariadb-install-db", "mysql_install_db")
    client = _binary("mariadb", "mysql")
    as_user = "mysql" if os.geteuid() == 0 else None
    # the server's administrator is the account of whoever runs the tests, by socket
    admin = "root" if as_user else getpass.getuser()
    workdir = Path(tempfile.mkdtemp(prefix="flexorm-mariadb-"))
    data, sock = workdir / "data", workdir / "server.sock"
    if as_user:
        entry = pwd.getpwnam(as_user)
        os.chown(workdir, entry.pw_uid, entry.pw_gid)
    user_option = [f"--user={as_user}"] if as_user else []
    port = free_port()
    log = workdir / "server.log"
    try:
        subprocess.run([install, "--no-defaults", *user_option, f"--datadir={data}",
                        "--auth-root-authentication-method=socket",
                        f"--auth-root-socket-user={admin}", "--skip-test-db"],
                       check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        raise RuntimeError(f"MariaDB did not initialise: {exc.stderr}") from exc
    process = subprocess.Popen(
        [server, "--no-defaults", *user_option, f"--datadir={data}", f"--socket={sock}",
         f"--port={port}", "--bind-address=127.0.0.1", f"--log-error={log}",
         "--innodb-flush-log-at-trx-commit=0", "--skip-log-bin"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root = [client, "--no-defaults", f"--socket={sock}", "-u", admin]
    try:
        for _ in range(600):  # up to 60 s
            ready = subprocess.run([*root, "-e", "SELECT 1"], capture_output=True)
            if ready.returncode == 0:
                break
            if process.poll() is not None:
                break
            time.sleep(0.1)
        grant = (f"CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'; "
                 f"CREATE USER '{USER}'@'localhost' IDENTIFIED BY '{PASSWORD}'; "
                 f"GRANT ALL ON *.* TO '{USER}'@'127.0.0.1' WITH GRANT OPTION; "
                 f"GRANT ALL ON *.* TO '{USER}'@'localhost' WITH GRANT OPTION")
        subprocess.run([*root, "-e", grant], check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        process.kill()
        process.wait()
        detail = log.read_text() if log.exists() else ""
        shutil.rmtree(workdir, ignore_errors=True)
        raise RuntimeError(f"MariaDB did not start: {exc.stderr}\n{detail}") from exc
    try:
        yield f"mysql://{USER}:{PASSWORD}@127.0.0.1:{port}/"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)
