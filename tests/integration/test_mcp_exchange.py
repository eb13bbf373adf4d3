"""A handshake-era client's request answered in its own task gets what the SDK's session
manager answers: the same request goes, over a real uvicorn server, to a stateless manager on
its own and to the same kind of manager behind :class:`~flexorm.mcp.exchange.Exchange`, and the
two answers are compared byte for byte (status, headers, body)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mcp import types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from starlette.types import Receive, Scope, Send

from flexorm.mcp.exchange import Exchange
from tests._served import served

BODY_LIMIT = 4096
V2025 = "2025-11-25"


async def _call_tool(ctx: ServerRequestContext[Any, Any],
                     params: types.CallToolRequestParams) -> types.CallToolResult:
    arguments = params.arguments or {}
    if params.name == "echo":
        # notifications for the request have no way to the client in a JSON answer
        await ctx.session.report_progress(0.5)
        await ctx.session.send_notification(types.ResourceListChangedNotification(),
                                            related_request_id=ctx.request_id)
        request = ctx.request
        return types.CallToolResult(content=[types.TextContent(type="text", text="echo")],
                                    structured_content={
            "arguments": arguments,
            "version": ctx.protocol_version,
            "agent": request.headers.get("x-agent") if request is not None else None,
            "request_id": ctx.request_id,
            "can_send_request": ctx.session.can_send_request,
            "client_params": ctx.session.client_params is not None,
            "lifespan": ctx.lifespan_context == {},
        })
    if params.name == "ask":  # a request to the client: no way back without a session
        await ctx.session.elicit_form("name?", {"type": "object", "properties": {}},
                                      related_request_id=ctx.request_id)
    if params.name == "refuse":
        raise MCPError(types.INVALID_PARAMS, "refused", data={"why": "asked to"})
    if params.name == "boom":
        raise RuntimeError("boom")
    return types.CallToolResult(content=[types.TextContent(type="text", text="?")],
                                is_error=True)


async def _list_tools(ctx: ServerRequestContext[Any, Any],
                      params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
    return types.ListToolsResult(tools=[types.Tool(name="echo", input_schema={
        "type": "object", "properties": {"text": {"type": "string"}}})])


def _manager() -> StreamableHTTPSessionManager:
    security = TransportSecuritySettings(enable_dns_rebinding_protection=True,
                                         allowed_hosts=["127.0.0.1:*"],
                                         allowed_origins=["http://127.0.0.1:*"])
    server = Server("toy", version="1", on_call_tool=_call_tool, on_list_tools=_list_tools)
    return StreamableHTTPSessionManager(app=server, json_response=True, stateless=True,
                                        security_settings=security,
                                        max_request_body_size=BODY_LIMIT)


class _Both:
    """``/sdk``: a session manager on its own; ``/direct``: another behind the exchange."""

    def __init__(self) -> None:
        self.sdk = _manager()
        self.behind = _manager()
        self.direct = Exchange(self.behind, {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            async with contextlib.AsyncExitStack() as stack:
                await receive()
                await stack.enter_async_context(self.sdk.run())
                await stack.enter_async_context(self.behind.run())
                await send({"type": "lifespan.startup.complete"})
                await receive()
            await send({"type": "lifespan.shutdown.complete"})
        elif scope["path"] == "/health":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
        elif scope["path"] == "/sdk":
            await self.sdk.handle_request(scope, receive, send)
        else:
            await self.direct(scope, receive, send)


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with served(_Both()) as base:
        yield base


JSON_IN = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
VERSIONED = {**JSON_IN, "MCP-Protocol-Version": V2025}


def _request(method: str, params: dict[str, Any] | None = None,
             request_id: Any = 1) -> str:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return json.dumps(message)


def _compared(base: str, body: Any, headers: Any,
              method: str = "POST") -> tuple[int, dict[str, str], bytes]:
    answers = []
    for path in ("/sdk", "/direct"):
        content = body() if callable(body) else body
        response = httpx.request(method, f"{base}{path}", content=content, headers=headers)
        kept = {k: v for k, v in response.headers.items() if k not in {"date", "server"}}
        answers.append((response.status_code, kept, response.content))
    assert answers[0] == answers[1]
    return answers[1]


ANSWERED_DIRECTLY = {
    "a tool call": (_request("tools/call", {"name": "echo", "arguments": {"text": "hi"}}),
                    {**VERSIONED, "X-Agent": "tests"}),
    "without a version header": (_request("tools/call", {"name": "echo"}), JSON_IN),
    "an older version": (_request("tools/call", {"name": "echo"}, "a"),
                         {**JSON_IN, "MCP-Protocol-Version": "2025-03-26"}),
    "a string id": (_request("tools/list", None, "x-1"), VERSIONED),
    "a ping": (_request("ping"), VERSIONED),
    "a tool error": (_request("tools/call", {"name": "other"}), VERSIONED),
    "an error the handler raises": (_request("tools/call", {"name": "refuse"}), VERSIONED),
    "a crash": (_request("tools/call", {"name": "boom"}), VERSIONED),
    "a request to the client": (_request("tools/call", {"name": "ask"}), VERSIONED),
    "invalid params": (_request("tools/call", {"arguments": {}}), VERSIONED),
    "an unknown method": (_request("nope/nothing"), VERSIONED),
    "a method the server lacks": (_request("prompts/list"), VERSIONED),
    "a 2026 envelope on a 2025 request": (_request("tools/call", {"name": "echo", "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28"}}), VERSIONED),
    "json with a charset": (_request("ping"),
                            {**VERSIONED, "Content-Type": "application/json; charset=utf-8"}),
    "any type accepted": (_request("ping"), {**VERSIONED, "Accept": "*/*"}),
    "json accepted only": (_request("ping"), {**VERSIONED, "Accept": "application/json"}),
    "a session id (none is kept)": (_request("ping"), {**VERSIONED, "Mcp-Session-Id": "abc"}),
    "two version headers (the first counts)": (_request("tools/call", {"name": "echo"}), [
        *JSON_IN.items(), ("MCP-Protocol-Version", V2025),
        ("MCP-Protocol-Version", "2026-07-28")]),
}


@pytest.mark.parametrize("case", list(ANSWERED_DIRECTLY))
def test_a_plain_request_is_answered_as_the_manager_answers_it(base: str, case: str) -> None:
    body, headers = ANSWERED_DIRECTLY[case]
    status, answer_headers, content = _compared(base, body, headers)
    assert status == 200
    assert answer_headers["content-type"] == "application/json"
    assert json.loads(content)["id"] == json.loads(body)["id"]


def test_the_handler_sees_what_the_stateless_transport_shows_it(base: str) -> None:
    _, _, content = _compared(base, _request("tools/call", {"name": "echo", "arguments": {
        "text": "hi"}}, 7), {**VERSIONED, "X-Agent": "tests"})
    assert json.loads(content)["result"]["structuredContent"] == {
        "arguments": {"text": "hi"}, "version": V2025, "agent": "tests", "request_id": 7,
        "can_send_request": False, "client_params": False, "lifespan": True}


def _chunked() -> Iterator[bytes]:
    yield _request("ping").encode()


LEFT_TO_THE_MANAGER = {
    "the handshake": (_request("initialize", {"protocolVersion": V2025, "capabilities": {},
                                              "clientInfo": {"name": "t", "version": "1"}}),
                      JSON_IN),
    "a notification": (json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
                       VERSIONED),
    "a response": (json.dumps({"jsonrpc": "2.0", "id": 1, "result": {}}), VERSIONED),
    "a batch": (json.dumps([json.loads(_request("ping"))]), VERSIONED),
    "not json": ("{nope", VERSIONED),
    "not json-rpc": (json.dumps({"id": 1, "method": 3}), VERSIONED),
    "another content type": (_request("ping"), {**VERSIONED, "Content-Type": "text/plain"}),
    "a json-like content type": (_request("ping"),
                                 {**VERSIONED, "Content-Type": "application/jsonx"}),
    "an event stream accepted only": (_request("ping"),
                                      {**VERSIONED, "Accept": "text/event-stream"}),
    "no accept header": (_request("ping"), {k: v for k, v in VERSIONED.items()
                                            if k != "Accept"}),
    "a body without a length": (_chunked, VERSIONED),
    "a body too large": (_request("tools/call", {"name": "echo", "arguments": {
        "text": "x" * BODY_LIMIT}}), VERSIONED),
    "a host not allowed": (_request("ping"), {**VERSIONED, "Host": "evil.example"}),
    "an origin not allowed": (_request("ping"), {**VERSIONED, "Origin": "http://evil.example"}),
    "a 2026 client": (_request("ping", {"_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}}}),
        {**JSON_IN, "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "ping"}),
    "an unknown version": (_request("ping"), {**JSON_IN, "MCP-Protocol-Version": "1999-01-01"}),
    "a 2026 version first": (_request("ping"), [
        *JSON_IN.items(), ("MCP-Protocol-Version", "2026-07-28"),
        ("MCP-Protocol-Version", V2025)]),
}


@pytest.mark.parametrize("case", list(LEFT_TO_THE_MANAGER))
def test_anything_else_gets_the_managers_own_answer(base: str, case: str) -> None:
    body, headers = LEFT_TO_THE_MANAGER[case]
    _compared(base, body, headers)


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT"])
def test_other_http_methods_get_the_managers_own_answer(base: str, method: str) -> None:
    # (a GET that takes an event stream would open one and wait: one that does not is refused)
    status, _, _ = _compared(base, None, {**VERSIONED, "Accept": "application/json"}, method)
    assert status >= 400
