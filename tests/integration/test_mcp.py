"""The MCP server at /mcp, through the SDK's own client over Streamable HTTP against a real
uvicorn server, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
import sqlalchemy as sa
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.shared.inbound import x_mcp_header_map

from flexorm import ActionContext
from flexorm.mcp.endpoint import TRANSPORT_LOGGER
from flexorm.mcp.server import build_server
from flexorm.plugin import MAX_BODY_SIZE
from tests._proxy import proxied
from tests._served import served
from tests.integration._calls_shop import (
    AUTH,
    create_tables,
    jwt_auth,
    make_flex,
    runs,
    statuses,
)

Session = Callable[[Client], Awaitable[Any]]


@pytest.fixture
def url(db_url: str) -> str:
    create_tables(db_url)
    return db_url


@pytest.fixture
def base(url: str) -> Iterator[str]:
    with served(make_flex(url).app) as base:
        yield base


def with_client(base: str, session: Session, headers: dict[str, str] | None = None,
                mode: str = "auto", event_hooks: dict[str, list[Any]] | None = None) -> Any:
    """Run ``session`` with an MCP client connected to the server as ``headers`` say
    (``mode="legacy"``: the 2025 protocol's handshake, else the SDK's newest protocol)."""

    async def main() -> Any:
        async with httpx2.AsyncClient(headers=headers if headers is not None else AUTH,
                                      event_hooks=event_hooks) as http:
            transport = streamable_http_client(f"{base}/mcp", http_client=http)
            async with Client(transport, mode=mode) as client:
                return await session(client)

    try:
        return asyncio.run(main())
    except BaseExceptionGroup as group:  # the client's task groups wrap what went wrong
        raise first_leaf(group) from None


def first_leaf(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


def tools_of(base: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    async def listed(client: Client) -> Any:
        return (await client.list_tools()).tools

    return {tool.name: tool for tool in with_client(base, listed, headers)}


def call(base: str, name: str, arguments: dict[str, Any],
         headers: dict[str, str] | None = None) -> Any:
    async def called(client: Client) -> Any:
        return await client.call_tool(name, arguments)

    return with_client(base, called, headers)


def jet_error(base: str, action: str, **params: Any) -> tuple[int, Any]:
    """What Jet Admin gets for the same call through /api/messages/."""
    response = httpx.post(f"{base}/api/messages/", headers=AUTH, json={
        "name": "execute_action", "params": {"model": "orders", "name": action, **params}})
    return response.status_code, response.json()


def walk(schema: Any) -> Iterator[dict[str, Any]]:
    if isinstance(schema, dict):
        yield schema
        for value in schema.values():
            yield from walk(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from walk(value)


# -- listing ----------------------------------------------------------------------------------


def test_every_action_is_a_tool_named_by_its_collection_and_name(base: str) -> None:
    tools = tools_of(base)
    assert sorted(tools) == ["get_field_options", "orders__annotate", "orders__discount",
                             "orders__reassign", "orders__refresh", "orders__report",
                             "orders__ship", "refresh"]  # the policy hides forbidden
    # a collection action and a common action share the name "refresh": two tools
    assert "common action" in tools["refresh"].description
    assert "orders collection" in tools["orders__refresh"].description


def test_tool_inputs_are_flat_json_schema(base: str) -> None:
    tools = tools_of(base)
    for tool in tools.values():
        schema = tool.input_schema
        assert schema["type"] == "object"
        for node in walk(schema):
            assert not {"$ref", "$defs", "anyOf", "oneOf", "allOf"} & node.keys(), tool.name
            assert not isinstance(node.get("type"), list), tool.name
    ship = tools["orders__ship"].input_schema
    assert ship["properties"]["ids"] == {
        "type": "array", "items": {"type": "integer"},
        "description": "The ids of the orders records to run on."}
    assert "id" not in ship["properties"]  # a bulk action runs on a list
    assert ship["properties"]["carrier"] == {"type": "string", "enum": ["ups", "dhl"]}
    assert ship["properties"]["on"] == {"type": "string", "format": "date", "title": "Ship on",
                                        "description": "The day they leave",
                                        "default": "2026-01-01"}
    assert ship["required"] == ["carrier"]
    assert ship["additionalProperties"] is False
    discount = tools["orders__discount"].input_schema["properties"]
    assert discount["id"]["type"] == "integer"
    assert discount["amount"] == {"type": "string", "format": "decimal"}
    assert discount["size"] == {"type": "string", "enum": ["s", "m"], "default": "s"}
    reassign = tools["orders__reassign"].input_schema["properties"]
    assert reassign["customer"]["type"] == "integer"
    assert reassign["customer"]["description"] == (
        "The id of a record of customers (find one with the get_field_options tool).")
    annotate = tools["orders__annotate"].input_schema["properties"]
    assert annotate["note"] == {"type": "string", "maxLength": 40}
    assert tools["orders__report"].input_schema["properties"]["limit"] == {
        "type": "integer", "default": 10}


def test_tool_annotations_and_descriptions_come_from_the_declaration(base: str) -> None:
    tools = tools_of(base)
    ship, report = tools["orders__ship"], tools["orders__report"]
    assert ship.title == "Ship orders"
    assert ship.description.startswith("Mark the orders shipped with a carrier.")
    assert (ship.annotations.read_only_hint, ship.annotations.destructive_hint,
            ship.annotations.idempotent_hint) == (False, True, False)
    assert (report.annotations.read_only_hint, report.annotations.destructive_hint,
            report.annotations.idempotent_hint) == (True, False, True)
    assert report.annotations.title == "Report"
    assert ship.output_schema["required"] == ["result"]


def test_tool_names_are_stable_across_restarts(url: str) -> None:
    with served(make_flex(url).app) as first:
        before = {name: tool.input_schema for name, tool in tools_of(first).items()}
    with served(make_flex(url).app) as second:
        after = {name: tool.input_schema for name, tool in tools_of(second).items()}
    assert before == after


# -- calling ----------------------------------------------------------------------------------


def test_a_tool_call_runs_the_action_and_answers_structured_content(base: str,
                                                                      url: str) -> None:
    result = call(base, "orders__ship", {"ids": [1, 2], "carrier": "dhl"})
    assert not result.is_error
    assert result.structured_content == {"result": 2}
    assert json.loads(result.content[0].text) == {"result": 2}
    assert statuses(url)[1] == statuses(url)[2] == "shipped"
    one = call(base, "orders__discount", {"id": 3, "amount": "0.50"})
    assert one.structured_content == {"result": "29.50"}
    common = call(base, "refresh", {})
    collection = call(base, "orders__refresh", {})
    assert (common.structured_content, collection.structured_content) == (
        {"result": "everything"}, {"result": "orders"})
    [*_, last] = runs(url)
    assert (last.action, last.collection, last.interface, last.status) == (
        "refresh", "orders", "mcp", "succeeded")
    assert [run.interface for run in runs(url)] == ["mcp"] * 4


def test_an_agent_retrying_with_its_idempotency_key_runs_the_action_once(base: str,
                                                                         url: str) -> None:
    """A tool call carries no header of its own: its key is an argument, listed for every
    action that writes, and a retry with it is answered as the first call was."""
    tools = tools_of(base)
    assert tools["orders__discount"].input_schema["properties"]["idempotency_key"][
        "maxLength"] == 255
    assert "idempotency_key" not in tools["orders__report"].input_schema["properties"]
    first, again, other = (call(base, "orders__discount", arguments) for arguments in (
        {"id": 3, "amount": "0.50", "idempotency_key": "refund-3"},
        {"id": 3, "amount": "0.50", "idempotency_key": "refund-3"},  # the answer was lost
        {"id": 3, "amount": "1.00", "idempotency_key": "refund-3"}))
    assert first.structured_content == again.structured_content == {"result": "29.50"}
    assert other.is_error
    assert other.structured_content["error_code"] == "idempotency_conflict"
    discounts = [run for run in runs(url) if run.action == "discount"]
    assert [(run.status, run.idempotency_key) for run in discounts] == [
        ("succeeded", "refund-3"), ("rejected", "refund-3")]
    # an HTTP client may send it in the body too, but not two different ones
    answer = httpx.post(f"{base}/api/actions/orders/discount",
                        headers={**AUTH, "Idempotency-Key": "refund-4"},
                        json={"id": 3, "amount": "0.50", "idempotency_key": "other"})
    assert (answer.status_code, answer.json()) == (400, {"idempotency_key": [
        "the request carries two different idempotency keys"]})


def test_a_client_of_the_2025_protocol_lists_and_calls_the_same_tools(base: str,
                                                                       url: str) -> None:
    async def session(client: Client) -> Any:
        tools = (await client.list_tools()).tools
        called = await client.call_tool("orders__discount", {"id": 2, "amount": "x"})
        done = await client.call_tool("orders__ship", {"ids": [2], "carrier": "ups"})
        return client.protocol_version, tools, called, done

    version, tools, called, done = with_client(base, session, mode="legacy")
    assert version == "2025-11-25"
    assert {tool.name for tool in tools} == set(tools_of(base))
    assert (called.is_error, list(called.structured_content)) == (True, ["amount"])
    assert done.structured_content == {"result": 1}
    assert statuses(url)[2] == "shipped"


def test_no_tool_declares_an_mcp_param_header(base: str, url: str) -> None:
    # the SDK checks a 2026 call's Mcp-Param-* headers against the ones the tool's input
    # schema declares (x-mcp-header): flexorm's declare none, so the server hands the SDK no
    # schema to walk on each call, nor lets it list every tool to find one
    tools = tools_of(base)
    assert all(x_mcp_header_map(tool.input_schema) == {} for tool in tools.values())
    lookup = build_server().get_tool_input_schema
    assert lookup is not None
    assert [name for name in tools if lookup(name) is not None] == []
    # a header that no schema declares has nothing to contradict: the call runs
    stray = call(base, "orders__ship", {"ids": [1], "carrier": "ups"},
                 {**AUTH, "Mcp-Param-Carrier": "dhl"})
    assert stray.structured_content == {"result": 1}
    assert statuses(url)[1] == "shipped"


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_the_sdks_per_request_info_line_stays_out_of_the_output(url: str) -> None:
    transport = logging.getLogger(TRANSPORT_LOGGER)
    transport.setLevel(logging.NOTSET)  # as in a new process
    kept = _Kept()  # on the logger itself: the app's logging setup leaves it alone
    transport.addHandler(kept)

    async def session(client: Client) -> Any:
        return await client.call_tool("orders__refresh", {})

    try:
        with served(make_flex(url).app) as base:
            assert with_client(base, session, mode="legacy").structured_content == {
                "result": "orders"}
        assert transport.level == logging.WARNING
        assert kept.records == []
        transport.setLevel(logging.INFO)  # an application's own choice is kept
        with served(make_flex(url).app) as base:
            with_client(base, session, mode="legacy")
        assert transport.level == logging.INFO
        assert "Terminating session: None" in [r.getMessage() for r in kept.records]
    finally:
        transport.removeHandler(kept)
        transport.setLevel(logging.NOTSET)


def test_a_2025_clients_calls_after_the_handshake_need_no_transport_of_their_own(
        url: str) -> None:
    # the SDK's stateless transport, built for a request, says so when it ends (at INFO):
    # only the handshake's requests go through one, the calls are answered in their own task
    transport = logging.getLogger(TRANSPORT_LOGGER)
    transport.setLevel(logging.INFO)
    kept = _Kept()
    transport.addHandler(kept)

    async def handshake(client: Client) -> Any:
        # the client posts its messages in order and awaits a notification's 202: once this
        # listing is back, the handshake's last POST is done too, rather than cut off when the
        # session ends (the calls below then add three calls to the same listing)
        await client.list_tools()
        return client.protocol_version

    async def calls(client: Client) -> Any:
        listed = await client.list_tools()
        done = [await client.call_tool("orders__refresh", {}) for _ in range(3)]
        return len(listed.tools), [result.structured_content for result in done]

    def transports(session: Session) -> tuple[Any, int]:
        kept.records.clear()
        with served(make_flex(url).app) as base:
            answer = with_client(base, session, mode="legacy")
        # (counted once the server stopped: a notification's transport ends after its 202)
        return answer, sum(r.getMessage() == "Terminating session: None" for r in kept.records)

    try:
        version, for_the_handshake = transports(handshake)
        assert version == "2025-11-25"
        assert for_the_handshake > 0
        assert transports(calls) == ((8, [{"result": "orders"}] * 3), for_the_handshake)
    finally:
        transport.removeHandler(kept)
        transport.setLevel(logging.NOTSET)
    assert [run.interface for run in runs(url)] == ["mcp"] * 3


def test_an_inverse_selection_and_a_reference_parameter(base: str, url: str) -> None:
    shipped = call(base, "orders__ship", {"ids": [1], "inverse": True, "carrier": "ups"})
    assert shipped.structured_content == {"result": 4}
    assert statuses(url) == {1: "new", 2: "shipped", 3: "shipped", 4: "shipped", 5: "shipped"}
    moved = call(base, "orders__reassign", {"id": 1, "customer": 2})
    assert moved.structured_content == {"result": "Grace"}


def test_invalid_arguments_are_tool_errors_with_jet_admins_messages(base: str,
                                                                      url: str) -> None:
    result = call(base, "orders__discount", {"id": 1, "amount": "abc", "colour": "red"})
    assert result.is_error
    status, body = jet_error(base, "discount", id=1, params={"amount": "abc", "colour": "red"})
    assert status == 400
    assert result.structured_content == body
    assert set(body) == {"amount", "colour"}
    assert "amount: " in result.content[0].text
    missing = call(base, "orders__ship", {"carrier": "ups"})
    assert missing.is_error
    assert missing.structured_content == {"ids": ["action 'ship' runs on records: send their ids"]}
    unknown_id = call(base, "orders__reassign", {"id": 99, "customer": 7})
    assert unknown_id.structured_content == {"ids": ["no orders record with id 99"],
                                             "customer": ["no customers record with id 7"]}
    refused = call(base, "orders__discount", {"id": 1, "amount": "1000"})
    assert refused.structured_content == {"non_field_errors": ["order 1 costs less than 1000"]}
    assert statuses(url)[1] == "new"
    assert [run.status for run in runs(url) if run.interface == "mcp"] == ["rejected"] * 3 + [
        "failed"]


def test_an_unknown_tool_is_a_protocol_error_and_a_hidden_one_is_refused(base: str,
                                                                        url: str) -> None:
    with pytest.raises(MCPError, match="unknown tool"):
        call(base, "nope", {})
    refused = call(base, "orders__forbidden", {"id": 1})  # its policy says no
    assert refused.is_error
    assert refused.structured_content["error_code"] == "permission_denied"
    assert statuses(url)[1] == "new"


def test_field_options_tool_searches_a_reference_parameter(base: str) -> None:
    found = call(base, "get_field_options",
                 {"tool": "orders__reassign", "field": "customer", "query": "gr"})
    assert found.structured_content == {"options": [{"value": 2, "name": "Grace"}]}
    choices = call(base, "get_field_options", {"tool": "orders__ship", "field": "carrier"})
    assert [o["value"] for o in choices.structured_content["options"]] == ["ups", "dhl"]
    bad = call(base, "get_field_options", {"tool": "orders__ship", "field": "nope"})
    assert bad.is_error
    assert bad.structured_content == {"field": ["action 'ship' has no parameter 'nope'"]}


def test_collections_are_resources(base: str) -> None:
    async def read(client: Client) -> Any:
        listed = await client.list_resources()
        orders = await client.read_resource("flexorm://collections/orders")
        return listed, orders

    listed, orders = with_client(base, read)
    assert {r.name for r in listed.resources} >= {"orders", "customers"}
    description = json.loads(orders.contents[0].text)
    assert description["model"] == "orders"
    assert {f["name"] for f in description["fields"]} == {"id", "status", "total", "note",
                                                           "customer_id"}


@pytest.mark.parametrize("dialect", [pytest.param("postgresql", marks=pytest.mark.postgres),
                                     pytest.param("mariadb", marks=pytest.mark.mariadb)])
def test_while_the_database_is_unreachable_every_tool_answers_database_unavailable(
        dialect: str, request: pytest.FixtureRequest) -> None:
    url = sa.make_url(str(request.getfixturevalue(
        "pg_url" if dialect == "postgresql" else "mariadb_url")))
    create_tables(url.render_as_string(hide_password=False))
    assert url.host is not None
    assert url.port is not None
    options = {"tool": "orders__reassign", "field": "customer", "query": "gr"}

    with proxied(url.host, url.port) as proxy:
        async def session(client: Client) -> Any:
            await client.list_tools()
            proxy.down()
            try:
                down = [await client.call_tool(name, arguments) for name, arguments in (
                    ("get_field_options", options), ("orders__report", {}),
                    ("orders__ship", {"ids": [1], "carrier": "ups"}))]
            finally:
                proxy.up()
            return down, await client.call_tool("get_field_options", options)

        through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(
            hide_password=False)
        with served(make_flex(through).app) as base:
            for mode in ("legacy", "auto"):
                down, back = with_client(base, session, mode=mode)
                assert [(result.is_error, result.structured_content["error_code"])
                        for result in down] == [(True, "database_unavailable")] * 3, mode
                assert "cannot be reached" in down[0].content[0].text
                assert back.structured_content == {"options": [{"value": 2, "name": "Grace"}]}
    assert set(statuses(url.render_as_string(hide_password=False)).values()) == {"new"}


def test_a_body_over_flexorms_limit_is_refused_with_a_json_rpc_error(base: str,
                                                                       url: str) -> None:
    def rpc(size: int) -> bytes:
        return json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "orders__ship",
            "arguments": {"ids": [1], "carrier": "ups", "padding": "x" * size}}}).encode()

    headers = {**AUTH, "Accept": "application/json, text/event-stream",
               "Content-Type": "application/json", "MCP-Protocol-Version": "2025-11-25"}
    limit = MAX_BODY_SIZE
    over = rpc(limit)
    assert len(over) > limit

    def pieces() -> Iterator[bytes]:  # sent chunked, without a Content-Length
        yield from (over[i:i + 65536] for i in range(0, len(over), 65536))

    for content in (over, pieces()):
        response = httpx.post(f"{base}/mcp", content=content, headers=headers, timeout=60)
        assert response.status_code == 413
        assert response.json() == {"jsonrpc": "2.0", "id": None, "error": {
            "code": -32600, "message": "Request Entity Too Large",
            "data": {"error": "Request Entity Too Large",
                     "error_code": "request_entity_too_large"}}}
    with pytest.raises(MCPError, match="Request Entity Too Large"):  # what an agent is told
        call(base, "orders__ship", {"ids": [1], "carrier": "ups", "padding": "x" * limit})
    # a body within the limit is read (the tool refuses the unknown parameter)
    within = rpc(limit - 1024)
    assert len(within) <= limit
    response = httpx.post(f"{base}/mcp", content=within, headers=headers, timeout=60)
    assert response.status_code == 200
    assert response.json()["result"]["structuredContent"] == {
        "padding": ["Unknown parameter."]}
    assert statuses(url)[1] == "new"
    assert [run.status for run in runs(url)] == ["rejected"]


# -- who may call what ------------------------------------------------------------------------


def test_a_read_only_caller_sees_and_runs_only_read_only_tools(base: str, url: str) -> None:
    reader = jwt_auth(read_only=True)
    assert sorted(tools_of(base, reader)) == ["get_field_options", "orders__report"]
    report = call(base, "orders__report", {}, reader)
    assert report.structured_content == {"result": {"statuses": {"new": 5}}}
    refused = call(base, "orders__ship", {"ids": [1], "carrier": "ups"}, reader)
    assert (refused.is_error, refused.structured_content["error_code"]) == (
        True, "permission_denied")
    assert set(statuses(url).values()) == {"new"}
    writer = jwt_auth()
    assert "orders__ship" in tools_of(base, writer)
    [run] = [run for run in runs(url) if run.action == "report"]
    assert (run.caller_kind, run.caller_user_id, run.interface) == ("jwt", "7", "mcp")


def test_an_agent_queues_a_background_run_and_follows_it_to_its_result(url: str) -> None:
    flex = make_flex(url, background_runner="embedded")

    @flex.action(model="orders", for_instance=True, bulk=True, background=True)
    def recount(orders: list[Any], ctx: ActionContext) -> int:
        """Recount the selected orders."""
        for done, _order in enumerate(orders, start=1):
            ctx.progress(done, len(orders), "counted")
        return len(orders)

    async def session(client: Client) -> Any:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        queued = await client.call_tool("orders__recount", {"ids": [1, 2, 3]})
        run = queued.structured_content["result"]["run"]
        for _ in range(600):
            shown = await client.call_tool("flexorm_run_status", {"run": int(run)})
            if shown.structured_content["result"]["status"] not in ("queued", "running"):
                break
            await asyncio.sleep(0.05)
        return tools, queued, shown

    with served(flex.app) as base:
        tools, queued, shown = with_client(base, session)
    description = tools["orders__recount"].description
    assert description.startswith("Recount the selected orders.")
    assert ('It runs in the background: the answer comes at once, a run id with the status '
            '"queued"') in description
    assert "Call flexorm_run_status with that run id" in description
    assert tools["flexorm_run_status"].annotations.read_only_hint is True
    assert tools["flexorm_cancel_run"].annotations.read_only_hint is False
    assert "It changes state." in tools["flexorm_cancel_run"].description
    assert queued.structured_content == {"result": {"run": "1", "status": "queued"}}
    result = shown.structured_content["result"]
    assert (result["run"], result["action"], result["collection"], result["status"],
            result["result"], result["progress"]) == (
        "1", "recount", "orders", "succeeded", 3,
        {"done": 3, "total": 3, "message": "counted"})
    assert [(run.action, run.interface) for run in runs(url)] == [("recount", "mcp")]


def test_without_credentials_mcp_answers_403(base: str) -> None:
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}}
    headers = {"Accept": "application/json, text/event-stream"}
    for auth in ({}, {"Authorization": "Bearer wrong"}):
        response = httpx.post(f"{base}/mcp", json=initialize, headers={**headers, **auth})
        assert response.status_code == 403
        assert response.json()["error_code"] == "not_authenticated"
    with pytest.raises(MCPError, match="error response"):  # the SDK client, refused
        tools_of(base, {})


_NOT_THE_PAGES = {"host", "content-length", "connection", "accept-encoding", "user-agent"}
"""Headers the browser sets itself, which a preflight does not ask about."""
_SAFELISTED = {"accept", "accept-language", "content-language"}
"""Headers a page may send across origins without the server allowing them."""
_CORS = ("access-control-allow-origin", "access-control-allow-methods",
         "access-control-allow-headers", "access-control-expose-headers",
         "access-control-allow-credentials")


def _names(value: str) -> set[str]:
    return {name.strip().lower() for name in value.split(",")}


def test_a_browser_may_call_mcp_from_another_origin(base: str) -> None:
    sent: set[str] = set()

    async def record(request: Any) -> None:
        sent.update(name.lower() for name in request.headers)

    async def session(client: Client) -> Any:
        await client.call_tool("orders__report", {})
        return await client.read_resource("flexorm://collections/orders")

    for mode in ("legacy", "auto"):  # the 2025 handshake, and the SDK's newest protocol
        with_client(base, session, mode=mode, event_hooks={"request": [record]})
    asked = sorted(sent - _NOT_THE_PAGES - _SAFELISTED)
    assert {"authorization", "content-type", "mcp-protocol-version"} <= set(asked)
    preflight = {"Origin": "https://app.jetadmin.io", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": ", ".join(asked)}
    answer = httpx.options(f"{base}/mcp", headers=preflight)  # without credentials
    assert answer.status_code == 204
    assert set(asked) <= _names(answer.headers["access-control-allow-headers"])
    assert {"mcp-session-id", "last-event-id"} <= _names(
        answer.headers["access-control-allow-headers"])
    assert "mcp-session-id" in _names(answer.headers["access-control-expose-headers"])
    assert {"post", "options"} <= _names(answer.headers["allow"])
    # the same CORS answer as Jet Admin's endpoint
    messages = httpx.options(f"{base}/api/messages/", headers=preflight)
    assert messages.status_code == 204
    assert [answer.headers[name] for name in _CORS] == [messages.headers[name] for name in _CORS]


def test_mcp_can_be_switched_off(url: str) -> None:
    with served(make_flex(url, mcp=False).app) as base:
        response = httpx.post(f"{base}/mcp", json={}, headers=AUTH)
        assert response.status_code == 404
        assert httpx.options(f"{base}/mcp").status_code == 404
        assert httpx.post(f"{base}/api/actions/orders/refresh", headers=AUTH).json() == {
            "result": "orders"}


_LAZY = """
import sys
from litestar.testing import TestClient
from tests.integration._calls_shop import AUTH, make_flex

def sdk():
    return sorted({m.split('.')[0] for m in sys.modules} & {'mcp', 'mcp_types'})

app = make_flex(sys.argv[1]).app
print(sorted(m for m in ('flexorm.calls.catalog', 'flexorm.operations.document')
             if m in sys.modules))
with TestClient(app) as client:
    client.post('/api/messages/', json={'name': 'get_action_list'}, headers=AUTH)
    client.post('/api/actions/orders/refresh', headers=AUTH)
    print(sdk())
    client.post('/mcp', json={}, headers={**AUTH, 'Accept': 'application/json'})
    print(sdk())
"""


def test_the_sdk_loads_on_the_first_mcp_request_only(url: str) -> None:
    done = subprocess.run([sys.executable, "-c", _LAZY, url], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).resolve().parents[2])
    # the app is built without the catalog and the OpenAPI document, and starts without the SDK
    assert done.stdout.split("\n")[:3] == ["[]", "[]", "['mcp', 'mcp_types']"]


def test_a_result_larger_than_the_journal_keeps_is_answered_whole(sqlite_url: str) -> None:
    """As over /api/messages/: the tool's result is whole, its run's row keeps a note."""
    create_tables(sqlite_url)
    flex = make_flex(sqlite_url, journal_result_limit=1000)

    @flex.action(model="orders", writes=False)
    def export(ctx: ActionContext, size: int) -> str:
        return "x" * size

    with served(flex.app) as base:
        done = call(base, "orders__export", {"size": 5000})
    assert (done.is_error, done.structured_content) == (False, {"result": "x" * 5000})
    assert json.loads(done.content[0].text) == {"result": "x" * 5000}
    [run] = runs(sqlite_url)
    assert (run.interface, run.status, run.result, run.error) == (
        "mcp", "succeeded", None,
        "result of 5,002 bytes not kept: larger than journal_result_limit (1,000)")
