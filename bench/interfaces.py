"""One action, three ways in: Jet Admin's ``execute_action``, its HTTP operation, its MCP tool.

The same uvicorn server (``bench.apps:flexorm_app``) answers all of them; one keep-alive
connection sends one request at a time, so a request's latency is its per-call cost. The
contenders run in alternation; figures are medians over the runs. The MCP tool call is one
``tools/call`` JSON-RPC request, as a stateless client sends it after listing the tools (the
first request to ``/mcp``, which loads the SDK, is in the warm-up). Two actions: ``ping``,
which takes nothing, and ``mark``, which takes a parameter and a record (on a 2026 call with
arguments, the SDK asks for the tool's input schema first, to check ``Mcp-Param-*`` headers).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import Any

from bench.schemas import ORDERS
from bench.server import ROOT, TOKEN, free_port, serve, uvicorn_command
from bench.stats import Sample

__all__ = ["CALLS", "TARGETS", "measure"]

_HEADERS_2025 = ("Accept: application/json, text/event-stream", "MCP-Protocol-Version: 2025-11-25")
_META_2026 = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
              "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"},
              "io.modelcontextprotocol/clientCapabilities": {}}


def _headers_2026(tool: str) -> tuple[str, ...]:
    return ("Accept: application/json, text/event-stream", "MCP-Protocol-Version: 2026-07-28",
            "Mcp-Method: tools/call", f"Mcp-Name: {tool}")


def _tool_call(tool: str, arguments: dict[str, Any], meta: dict[str, Any] | None) -> str:
    params: dict[str, Any] = {"name": tool, "arguments": arguments}
    if meta is not None:
        params["_meta"] = meta
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params})


_MARK_TOOL = f"{ORDERS}__mark"
_MARK_ARGUMENTS = {"ids": [1], "status": "done"}

CALLS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "execute_action": ("/api/messages/", json.dumps(
        {"name": "execute_action", "params": {"name": "ping", "params": {}}}), ()),
    "HTTP operation": ("/api/actions/ping", "{}", ()),
    "MCP tools/call (2025-11-25)": ("/mcp", _tool_call("ping", {}, None), _HEADERS_2025),
    "MCP tools/call (2026-07-28)": ("/mcp", _tool_call("ping", {}, _META_2026),
                                    _headers_2026("ping")),
    "execute_action, with arguments": ("/api/messages/", json.dumps(
        {"name": "execute_action", "params": {"model": ORDERS, "name": "mark", "ids": [1],
                                              "params": {"status": "done"}}}), ()),
    "MCP tools/call with arguments (2025-11-25)": (
        "/mcp", _tool_call(_MARK_TOOL, _MARK_ARGUMENTS, None), _HEADERS_2025),
    "MCP tools/call with arguments (2026-07-28)": (
        "/mcp", _tool_call(_MARK_TOOL, _MARK_ARGUMENTS, _META_2026), _headers_2026(_MARK_TOOL)),
}
"""What each interface sends to run an action: path, body, extra headers. The common action
``ping`` takes nothing; ``mark`` sets the status of one order (a parameter and a selection).
An MCP client of the 2026-07-28 protocol (the SDK's own, by default) sends each request on its
own, answered by the SDK's single-exchange entry; one of 2025-11-25 sends its calls after its
handshake, answered in their own task by :mod:`flexorm.mcp.exchange` (the handshake by the
SDK's stateless transport)."""

TARGETS: dict[str, tuple[float, str]] = {
    "HTTP operation": (1.1, "execute_action"),
    "MCP tools/call (2025-11-25)": (2.0, "execute_action"),
    "MCP tools/call (2026-07-28)": (2.0, "execute_action"),
    "MCP tools/call with arguments (2025-11-25)": (2.0, "execute_action, with arguments"),
    "MCP tools/call with arguments (2026-07-28)": (2.0, "execute_action, with arguments"),
}
"""Each interface's per-call latency at most this many times that of ``execute_action`` for
the same action (named second)."""


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
