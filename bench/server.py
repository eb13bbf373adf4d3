"""Served-app benchmarks: start to first answer, resident memory, get_action_list under load.

Every server runs in its own process on a free loopback port; the load generator
(:mod:`bench.load`) in another.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.stats import Sample

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ask(port: int, timeout: float = 2.0) -> bytes | None:
    """The body of a get_action_list answer, or None when the server does not answer 200."""
    answer = ask_full(port, timeout)
    return None if answer is None else answer[1]


def ask_full(port: int, timeout: float = 2.0) -> tuple[list[tuple[str, str]], bytes] | None:
    """The headers (sorted) and body of a get_action_list answer, or None when not 200."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/messages/", data=b'{"name": "get_action_list"}',
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if response.status != 200:
                return None
            headers = sorted((k.lower(), v) for k, v in response.getheaders()
                             if k.lower() not in ("date", "server"))
            return headers, response.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    port: int
    started: float
    ready: float


@contextlib.contextmanager
def serve(command: list[str], env: dict[str, str], port: int,
          timeout: float = 120.0) -> Iterator[Running]:
    """Start a server, wait until get_action_list answers, stop it afterwards."""
    full_env = {**os.environ, "FLEXORM_TOKEN": TOKEN, "PYTHONPATH": str(ROOT), **env}
    started = time.perf_counter()
    process = subprocess.Popen(command, env=full_env, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        while ask(port, timeout=1.0) is None:
            if process.poll() is not None:
                raise RuntimeError("server exited: " + process.stderr.read().decode()[-2000:]
                                   if process.stderr else "")
            if time.perf_counter() - started > timeout:
                raise RuntimeError("server did not answer in time")
            time.sleep(0.005)
        yield Running(process, port, started, time.perf_counter())
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve_command(url: str, port: int) -> list[str]:
    """``flexorm serve`` itself, as a user runs it."""
    return [sys.executable, "-c", "from flexorm.cli import main; main()", "serve", url,
            "--app", "bench.apps:flex", "--port", str(port)]


def uvicorn_command(app: str, port: int) -> list[str]:
    """The same uvicorn setup for both apps under load: one worker, no access log."""
    return [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--host", "127.0.0.1",
            "--no-access-log", "--log-level", "warning"]


def startup(url: str, repeat: int) -> dict[str, object]:
    """Start to first answered get_action_list: cold (empty cache dir) and warm, and RSS."""
    cold, warm, rss = [], [], []
    with tempfile.TemporaryDirectory() as cache:
        env = {"FLEXORM_CACHE_DIR": cache}
        for attempt in range(repeat + 1):
            for kind in ("cold", "warm"):
                if kind == "cold":
                    for file in Path(cache).glob("*"):
                        file.unlink()
                port = free_port()
                with serve(serve_command(url, port), env, port) as running:
                    seconds = running.ready - running.started
                    if attempt:  # the first round warms the OS file cache
                        (cold if kind == "cold" else warm).append(seconds)
                        if kind == "warm":
                            rss.append(rss_mib(running.process.pid))
    return {"cold": Sample(tuple(cold)), "warm": Sample(tuple(warm)), "rss": Sample(tuple(rss))}


def _load(port: int, requests: int, concurrency: int, seconds: float) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.load", str(port), "--requests", str(requests),
         "--concurrency", str(concurrency), "--seconds", str(seconds), "--token", TOKEN],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        check=True,
    )
    return dict(json.loads(out.stdout))


def throughput(url: str, repeat: int, requests: int, concurrency: int,
               seconds: float) -> dict[str, object]:
    """get_action_list on flexorm vs the bare handler, alternating runs; RSS after load."""
    results: dict[str, list[dict[str, float]]] = {"flexorm": [], "bare": []}
    rss_after = 0.0
    with tempfile.TemporaryDirectory() as folder:
        body_file = Path(folder) / "body.json"
        env = {"FLEXORM_DATABASE_URL": url, "FLEXORM_CACHE_DIR": folder}
        port = free_port()
        with serve(uvicorn_command("bench.apps:flexorm_app", port), env, port) as flexorm:
            body_file.write_bytes(ask(port) or b"")
            bare_port = free_port()
            with serve(uvicorn_command("bench.apps:bare_app", bare_port),
                       env | {"BENCH_BARE_BODY": str(body_file)}, bare_port) as bare:
                assert ask_full(bare.port) == ask_full(flexorm.port), \
                    "the bare handler answers the same bytes, headers included"
                for p in (port, bare_port):  # warm up
                    _load(p, min(requests, 500), concurrency, seconds)
                for _ in range(repeat):
                    for name, p in (("flexorm", port), ("bare", bare_port)):
                        results[name].append(_load(p, requests, concurrency, seconds))
                rss_after = rss_mib(flexorm.process.pid)
    return {
        name: {
            "rps": Sample(tuple(r["rps"] for r in runs)),
            "p50_ms": Sample(tuple(r["p50_ms"] for r in runs)),
            "p99_ms": Sample(tuple(r["p99_ms"] for r in runs)),
            "errors": sum(int(r["errors"]) for r in runs),
        }
        for name, runs in results.items()
    } | {"rss_after_load_mib": rss_after}
