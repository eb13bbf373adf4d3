"""One action, three ways in: Jet Admin's ``execute_action``, its HTTP operation, its MCP tool.

The same uvicorn server (``bench.apps:flexorm_app``, journal on) answers all three; one
keep-alive connection sends one request at a time, so a request's latency is its per-call
cost. The contenders run in alternation; figures are medians over the runs. The MCP tool call
is one ``tools/call`` JSON-RPC request, as a stateless client sends it after listing the
tools (the first request to ``/mcp``, which loads the SDK, is in the warm-up).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import Any

from bench.server import ROOT, TOKEN, free_port, serve, uvicorn_command
from bench.stats import Sample

__all__ = ["CALLS", "TARGETS", "measure"]

_PROTOCOL = "2025-11-25"

CALLS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "execute_action": ("/api/messages/", json.dumps(
        {"name": "execute_action", "params": {"name": "ping", "params": {}}}), ()),
    "HTTP operation": ("/api/actions/ping", "{}", ()),
    "MCP tools/call (2025-11-25)": ("/mcp", json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
         "params": {"name": "ping", "arguments": {}}}),
        ("Accept: application/json, text/event-stream", f"MCP-Protocol-Version: {_PROTOCOL}")),
    "MCP tools/call (2026-07-28)": ("/mcp", json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
         "params": {"name": "ping", "arguments": {}, "_meta": {
             "io.modelcontextprotocol/protocolVersion": "2026-07-28",
             "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"},
             "io.modelcontextprotocol/clientCapabilities": {}}}}),
        ("Accept: application/json, text/event-stream", "MCP-Protocol-Version: 2026-07-28",
         "Mcp-Method: tools/call", "Mcp-Name: ping")),
}
"""What each interface sends to run the common action ``ping``: path, body, extra headers. An
MCP client of the 2026-07-28 protocol (the SDK's own, by default) sends each request on its
own; one of 2025-11-25 (after its handshake) is served by the SDK's stateless transport."""

TARGETS = {"HTTP operation": 1.1, "MCP tools/call (2025-11-25)": 2.0,
           "MCP tools/call (2026-07-28)": 2.0}
"""Each interface's per-call latency at most this many times ``execute_action``'s."""


def _load(port: int, path: str, body: str, headers: tuple[str, ...],
          requests: int, seconds: float) -> dict[str, float]:
    command = [sys.executable, "-m", "bench.load", str(port), "--requests", str(requests),
               "--concurrency", "1", "--seconds", str(seconds), "--token", TOKEN,
               "--path", path, "--body", body]
    for header in headers:
        command += ["--header", header]
    out = subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


def measure(url: str, repeat: int, requests: int = 2000, seconds: float = 20.0, *,
            journal: bool = True) -> dict[str, dict[str, Any]]:
    """Per-call latency (p50, in seconds) of each interface; ``errors`` counts non-200s.

    ``journal=False`` serves without the journal: each call's own cost, without the journal
    row every interface writes alike."""
    latencies: dict[str, list[float]] = {name: [] for name in CALLS}
    errors = dict.fromkeys(CALLS, 0)
    with tempfile.TemporaryDirectory() as folder:
        env = {"FLEXORM_DATABASE_URL": url, "FLEXORM_CACHE_DIR": folder,
               "FLEXORM_AUTO_UPGRADE": "1", "FLEXORM_JOURNAL": "1" if journal else "0"}
        port = free_port()
        with serve(uvicorn_command("bench.apps:flexorm_app", port), env, port):
            for path, body, headers in CALLS.values():  # warm up (and load the SDK)
                _load(port, path, body, headers, min(requests, 300), seconds)
            for _ in range(repeat):
                for name, (path, body, headers) in CALLS.items():
                    result = _load(port, path, body, headers, requests, seconds)
                    latencies[name].append(result["p50_ms"] / 1000)
                    errors[name] += int(result["errors"])
    return {name: {"p50": Sample(tuple(values)), "errors": errors[name]}
            for name, values in latencies.items()}
