"""Real servers for the tests that need HTTP: a process on a free port, waited for until its
``/health`` answers, stopped afterwards; and requests fired at once from many threads."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from devservers.net import free_port

__all__ = ["WAIT", "at_once", "serving"]

T = TypeVar("T")

WAIT = 60.0
"""Seconds: a bound on waiting for a server or an answer, not a performance claim."""


@contextmanager
def serving(command: Callable[[int], Sequence[str]], log: Path, *, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> Iterator[str]:
    """Start ``command(port)`` and yield its base URL once ``/health`` answers 200.

    The environment is this process's without ``FLEXORM_*`` variables, plus ``env``.
    """
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FLEXORM_")}
    environment.update(env or {})
    base = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        process = subprocess.Popen(list(command(port)), cwd=cwd, env=environment,
                                   stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_healthy(base, process, log)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_healthy(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{base} did not start:\n{log.read_text()}")


def at_once(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run every call in a thread of its own, released together; their results in order."""
    start = threading.Barrier(len(calls))
    results: dict[int, T] = {}
    failures: list[BaseException] = []

    def run(index: int, call: Callable[[], T]) -> None:
        try:
            start.wait(timeout=WAIT)
            results[index] = call()
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT * 2)
    if failures:
        raise failures[0]
    assert len(results) == len(calls), "a request did not finish"
    return [results[i] for i in range(len(calls))]
