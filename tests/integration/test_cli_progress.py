"""``flexorm inspect`` and ``flexorm serve`` on a terminal: a progress bar while reflecting, then
the count and the elapsed time."""

from __future__ import annotations

import os
import pty
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from tests.conftest import run_statements


def _stderr_on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[str, str]:
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", "from flexorm.cli import main; main()", *args],
        stdout=subprocess.PIPE, stderr=follower, env={**os.environ, **env})
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal's other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    stdout, _ = process.communicate(timeout=60)
    os.close(leader)
    assert process.returncode == 0
    return stdout.decode(), b"".join(chunks).decode(errors="replace")


def test_a_terminal_sees_the_count_and_the_elapsed_time(sqlite_url: str, tmp_path: Path) -> None:
    run_statements(sqlite_url, [f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, v TEXT)"
                                for i in range(3)])
    stdout, terminal = _stderr_on_a_terminal(
        ["inspect", sqlite_url, "--json"],
        {"FLEXORM_REFLECTION_CACHE": "0", "FLEXORM_CACHE_DIR": str(tmp_path)})
    assert re.search(r"reflected 3 collections in \d+\.\d s", terminal), terminal
    assert stdout.startswith("[")  # the JSON itself is not mixed with the progress


def test_no_terminal_no_progress(sqlite_url: str, tmp_path: Path) -> None:
    run_statements(sqlite_url, ["CREATE TABLE t (id INTEGER PRIMARY KEY)"])
    result = subprocess.run(
        [sys.executable, "-c", "from flexorm.cli import main; main()", "inspect", sqlite_url],
        capture_output=True, text=True, env={**os.environ, "FLEXORM_REFLECTION_CACHE": "0",
                                             "FLEXORM_CACHE_DIR": str(tmp_path)}, check=True)
    assert "reflected" not in result.stderr


def test_serve_on_a_terminal_shows_the_count_before_its_banner(sqlite_url: str,
                                                                tmp_path: Path) -> None:
    run_statements(sqlite_url, [f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, v TEXT)"
                                for i in range(4)])
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", "from flexorm.cli import main; main()", "serve", sqlite_url,
         "--insecure", "--port", "0"],
        stdout=subprocess.PIPE, stderr=follower, text=True,
        env={**os.environ, "FLEXORM_CACHE_DIR": str(tmp_path), "FLEXORM_JOURNAL": "0"})
    os.close(follower)
    chunks: list[bytes] = []

    def read_terminal() -> None:
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert banner.startswith("Serving flexorm: 0 actions"), banner
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
        reader.join(timeout=10)
        os.close(leader)
    terminal = b"".join(chunks).decode(errors="replace")
    assert re.search(r"reflected 4 collections in \d+\.\d s", terminal), terminal
