"""``flexorm serve`` for real, as a new user runs it: the demo in a subprocess, then its curl."""

from __future__ import annotations

import os
import queue
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devservers.net import free_port

_WAIT = 60.0  # seconds: a bound on waiting for startup, not a performance claim


def _command() -> list[str]:
    script = Path(sys.executable).with_name("flexorm")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from flexorm.cli import main; main()"]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, queue.Queue[str]]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEXORM_")}
    with (tmp_path / "server.log").open("w") as log:
        process = subprocess.Popen(
            [*_command(), "serve", "--port", str(port)], cwd=tmp_path, env=env,
            stdout=subprocess.PIPE, stderr=log, text=True,
        )
        lines: queue.Queue[str] = queue.Queue()

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.put(line)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            yield port, lines
        finally:
            process.terminate()
            try:
                process.wait(timeout=_WAIT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            reader.join(timeout=_WAIT)
            assert process.stdout is not None
            process.stdout.close()


def _curl_line(lines: queue.Queue[str]) -> str:
    deadline = time.monotonic() + _WAIT
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1).strip()
        except queue.Empty:
            continue
        if line.startswith("curl "):
            return line
    pytest.fail("flexorm serve printed no curl command")


def _wait_healthy(port: int) -> None:
    deadline = time.monotonic() + _WAIT
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail("flexorm serve never became healthy")


def test_the_printed_curl_lists_the_demo_actions(server, tmp_path):
    port, lines = server
    curl = shlex.split(_curl_line(lines))
    _wait_healthy(port)
    assert (tmp_path / "flexorm-demo.db").is_file()

    url = next(word for word in curl if word.startswith("http://"))
    headers = dict(curl[i + 1].split(": ", 1) for i, word in enumerate(curl) if word == "-H")
    data = curl[curl.index("-d") + 1]
    assert url == f"http://127.0.0.1:{port}/api/messages/"
    response = httpx.post(url, headers=headers, content=data)
    assert response.status_code == 200
    names = {action["name"] for action in response.json()}
    assert {"mail_users", "refresh_users_status", "account_transfer"} <= names

    refused = httpx.post(url, content=data, headers={"Content-Type": "application/json"})
    assert refused.status_code == 403
