"""Each action as ``POST /api/actions/...`` and the OpenAPI document listing them, against a
real server; and a bounded schemathesis run over that document."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from flexorm import ActionContext, Flex, Settings
from tests._served import served
from tests.conftest import run_statements
from tests.integration._calls_shop import (
    AUTH,
    create_tables,
    jwt_auth,
    make_flex,
    runs,
    statuses,
)


@pytest.fixture
def url(db_url: str) -> str:
    create_tables(db_url)
    return db_url


@pytest.fixture
def base(url: str) -> Iterator[str]:
    with served(make_flex(url).app) as base:
        yield base


def post(base: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
         **options: Any) -> tuple[int, Any]:
    response = httpx.post(f"{base}{path}", json=body,
                          headers=headers if headers is not None else AUTH, **options)
    return response.status_code, response.json()


def test_an_operation_runs_its_action_with_the_tools_json(base: str, url: str) -> None:
    assert post(base, "/api/actions/orders/ship", {"ids": [1, 2], "carrier": "ups"}) == (
        200, {"result": 2})
    assert post(base, "/api/actions/orders/discount", {"id": 3, "amount": 0.5}) == (
        200, {"result": "29.50"})
    assert post(base, "/api/actions/refresh") == (200, {"result": "everything"})
    assert post(base, "/api/actions/orders/refresh", {}) == (200, {"result": "orders"})
    # however the client encodes the path
    assert post(base, "/api/actions/%6Frders/refresh/", {}) == (200, {"result": "orders"})
    assert statuses(url)[1] == "shipped"
    assert [(run.action, run.interface) for run in runs(url)] == [
        ("ship", "http"), ("discount", "http"), ("refresh", "http"), ("refresh", "http"),
        ("refresh", "http")]


def test_errors_have_the_protocols_shapes(base: str, url: str) -> None:
    status, body = post(base, "/api/actions/orders/discount", {"id": 1, "amount": "abc"})
    jet = httpx.post(f"{base}/api/messages/", headers=AUTH, json={
        "name": "execute_action",
        "params": {"model": "orders", "name": "discount", "id": 1, "params": {"amount": "abc"}},
    }).json()
    assert (status, body) == (400, jet)
    assert post(base, "/api/actions/orders/ship", {"ids": "x", "carrier": "ups"}) == (
        400, {"ids": ["must be a list of record ids"]})
    assert post(base, "/api/actions/orders/ship", [1, 2]) == (
        400, {"non_field_errors": ["must be a JSON object"]})
    null = httpx.post(f"{base}/api/actions/orders/ship", content=b"null", headers=AUTH)
    assert (null.status_code, null.json()) == (
        400, {"non_field_errors": ["must be a JSON object"]})
    assert post(base, "/api/actions/orders/nope", {})[0] == 404
    assert post(base, "/api/actions/orders/nope", {})[0] == 404
    assert post(base, "/api/actions/orders/ship", {}, headers={}) == (
        403, {"error": "authentication required: send Authorization: Bearer <key> or JWT "
                       "<token>", "error_code": "not_authenticated"})
    reader = jwt_auth(read_only=True)
    status, body = post(base, "/api/actions/orders/ship", {"ids": [1], "carrier": "ups"},
                        headers=reader)
    assert (status, body["error_code"]) == (403, "permission_denied")
    assert post(base, "/api/actions/orders/report", {}, headers=reader) == (
        200, {"result": {"statuses": {"new": 5}}})
    assert set(statuses(url).values()) == {"new"}


def test_an_error_names_the_key_the_client_sent(base: str, url: str) -> None:
    refused = post(base, "/api/actions/orders/discount", {"id": 1, "inverse": True, "amount": 1})
    jet = httpx.post(f"{base}/api/messages/", headers=AUTH, json={
        "name": "execute_action", "params": {"model": "orders", "name": "discount", "id": 1,
                                             "inverseIds": True, "params": {"amount": 1}}})
    message = "needs a list of ids, not a single id"
    assert refused == (400, {"inverse": [message]})
    assert (jet.status_code, jet.json()) == (400, {"inverseIds": [message]})

    async def over_mcp() -> Any:
        async with httpx2.AsyncClient(headers=AUTH) as http, Client(
                streamable_http_client(f"{base}/mcp", http_client=http)) as client:
            return await client.call_tool("orders__discount",
                                          {"id": 1, "inverse": True, "amount": 1})

    tool = asyncio.run(over_mcp())
    assert (tool.is_error, tool.structured_content) == (True, {"inverse": [message]})
    assert statuses(url)[1] == "new"


@pytest.mark.parametrize("body", [b"{nope", b'{"ids": [1], "carrier": "ups"', b"\xff{}",
                                  b'{"ids": [1]} {}'])
def test_a_body_that_is_not_json_says_why_as_jet_admins_endpoint_does(base: str, url: str,
                                                                        body: bytes) -> None:
    response = httpx.post(f"{base}/api/actions/orders/ship", content=body, headers=AUTH)
    jet = httpx.post(f"{base}/api/messages/", content=body, headers=AUTH)
    assert response.status_code == jet.status_code == 400
    [message] = response.json()["non_field_errors"]
    assert message.startswith("Incorrect JSON body: ")
    assert response.json() == jet.json()
    assert set(statuses(url).values()) == {"new"}
    assert runs(url) == []


def test_an_empty_body_and_one_of_whitespace_only_are_no_parameters(base: str) -> None:
    for body in (b"", b" \r\n\t"):
        response = httpx.post(f"{base}/api/actions/refresh", content=body, headers=AUTH)
        assert (response.status_code, response.json()) == (200, {"result": "everything"})


def test_an_idempotency_key_runs_an_operation_once(base: str, url: str) -> None:
    key = {**AUTH, "Idempotency-Key": "op-1"}
    first = post(base, "/api/actions/orders/ship", {"ids": [1], "carrier": "ups"}, headers=key)
    again = post(base, "/api/actions/orders/ship", {"ids": [1], "carrier": "ups"}, headers=key)
    assert first == again == (200, {"result": 1})
    assert len(runs(url)) == 1


def test_a_background_run_is_queued_and_followed_over_http(url: str) -> None:
    flex = make_flex(url, background_runner="embedded")

    @flex.action(model="orders", for_instance=True, bulk=True, background=True)
    def recount(orders: list[Any]) -> int:
        return len(orders)

    with served(flex.app) as base:
        document = httpx.get(f"{base}/api/openapi.json", headers=AUTH).json()
        status, queued = post(base, "/api/actions/orders/recount", {"ids": [1, 2]},
                              headers={**AUTH, "Idempotency-Key": "recount-1"})
        assert (status, queued) == (200, {"result": {"run": "1", "status": "queued"}})
        for _ in range(600):
            status, shown = post(base, "/api/actions/flexorm_run_status", {"run": 1})
            assert status == 200, shown
            if shown["result"]["status"] not in ("queued", "running"):
                break
            time.sleep(0.05)
        refused = post(base, "/api/actions/flexorm_run_status", {"run": 1},
                       headers={**AUTH, "Idempotency-Key": "look-1"})
    assert (shown["result"]["status"], shown["result"]["result"]) == ("succeeded", 2)
    assert refused == (400, {"idempotency_key": [
        "action 'flexorm_run_status' is not recorded in the journal, so it takes no "
        "idempotency key"]})
    paths = document["paths"]
    recount_op = paths["/api/actions/orders/recount"]["post"]
    assert [p["name"] for p in recount_op["parameters"]] == ["Idempotency-Key"]
    assert "It runs in the background" in recount_op["description"]
    assert paths["/api/actions/flexorm_run_status"]["post"]["parameters"] == []
    assert [(run.action, run.interface) for run in runs(url)] == [("recount", "http")]


def test_a_cancel_is_never_dry_run_and_its_schemas_offer_no_dry_run(
        url: str, tmp_path: Path) -> None:
    """The cancel acts through the journal, outside the transaction a dry run rolls back: a
    dry run of it would really cancel. It is refused, naming the field, through every
    interface, and the run goes on; its input schemas offer neither a dry run nor a token."""
    flex = make_flex(url, background_runner="embedded")
    go = tmp_path / "go"

    @flex.action(background=True, writes=False)
    def held(ctx: ActionContext) -> str:
        for _ in range(60000):  # until the test lets it go
            if go.exists():
                return "let go"
            ctx.progress(0)
            time.sleep(0.01)
        return "never let go"

    def shown(base: str, run: str) -> dict[str, Any]:
        status, answer = post(base, "/api/actions/flexorm_run_status", {"run": run})
        assert status == 200, answer
        result: dict[str, Any] = answer["result"]
        return result

    refusal = {"dry_run": ["action 'flexorm_cancel_run' acts outside the transaction a dry run "
                           "rolls back, so it cannot be dry-run: send it without dry_run"]}
    with served(flex.app) as base:
        document = httpx.get(f"{base}/api/openapi.json", headers=AUTH).json()
        tools = asyncio.run(_tool_inputs(base))
        status, queued = post(base, "/api/actions/held", {})
        assert status == 200, queued
        run = queued["result"]["run"]
        for _ in range(6000):  # a bound on the wait, not a measure
            if shown(base, run)["status"] == "running":
                break
            time.sleep(0.01)
        assert post(base, "/api/actions/flexorm_cancel_run", {"run": run, "dry_run": True}) == (
            400, refusal)
        assert post(base, "/api/messages/", {"name": "execute_action", "params": {
            "name": "flexorm_cancel_run", "params": {"run": run}, "dry_run": True}}) == (
            400, refusal)
        assert post(base, "/api/actions/flexorm_cancel_run",
                    {"run": run, "preview_token": "eyJ2IjoxfQ"}) == (400, {"preview_token": [
                        "action 'flexorm_cancel_run' cannot be dry-run, so no preview_token is "
                        "made for it: send it without preview_token"]})
        # a look at the run may be a dry run: it only reads, and shows the same
        status, looked = post(base, "/api/actions/flexorm_run_status",
                              {"run": run, "dry_run": True})
        assert status == 200, looked
        assert (looked["dry_run"], looked["changes"]) == (True, {})
        assert (looked["result"]["status"], looked["result"]["cancel_requested"]) == (
            "running", False)
        go.touch()
        for _ in range(6000):
            ended = shown(base, run)
            if ended["status"] not in ("queued", "running"):
                break
            time.sleep(0.01)
    # not cancelled: it ran to its end
    assert (ended["status"], ended["result"], ended["cancel_requested"]) == (
        "succeeded", "let go", False)
    cancel = document["paths"]["/api/actions/flexorm_cancel_run"]["post"]
    schema = cancel["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["properties"]) == {"run"}
    assert schema == tools["flexorm_cancel_run"]
    assert {"dry_run", "preview_token"} <= set(tools["flexorm_run_status"]["properties"])


async def _tool_inputs(base: str) -> dict[str, Any]:
    """Each MCP tool's input schema."""
    async with httpx2.AsyncClient(headers=AUTH) as http, Client(
            streamable_http_client(f"{base}/mcp", http_client=http)) as client:
        return {t.name: t.input_schema for t in (await client.list_tools()).tools}


def test_the_openapi_document_lists_every_action_behind_the_credentials(base: str) -> None:
    assert httpx.get(f"{base}/api/openapi.json").status_code == 403
    assert httpx.get(f"{base}/schema/openapi.json").status_code == 403
    document = httpx.get(f"{base}/schema/openapi.json", headers=AUTH).json()
    assert document == httpx.get(f"{base}/api/openapi.json", headers=AUTH).json()
    assert document["openapi"] == "3.1.0"
    paths = document["paths"]
    assert {path for path in paths if path.startswith("/api/actions/")} == {
        "/api/actions/orders/ship", "/api/actions/orders/discount",
        "/api/actions/orders/reassign", "/api/actions/orders/report",
        "/api/actions/orders/refresh", "/api/actions/refresh",
        "/api/actions/orders/forbidden", "/api/actions/orders/annotate"}
    assert {"/api/messages/", "/api/model_descriptions/", "/health"} <= set(paths)
    ship = paths["/api/actions/orders/ship"]["post"]
    assert ship["operationId"] == "orders__ship"
    assert set(ship["responses"]) == {"200", "400", "403", "409", "413", "503"}
    assert ship["responses"]["200"]["content"]["application/json"]["schema"]["required"] == [
        "result"]
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "A shared key: Authorization: "
                                                           "Bearer <key> (FLEXORM_TOKEN)."}
    assert document["security"] == [{"bearer": []}, {"jet": []}]

    # the same JSON as the MCP tool takes
    inputs = asyncio.run(_tool_inputs(base))
    body = ship["requestBody"]["content"]["application/json"]["schema"]
    assert body == inputs["orders__ship"]


def test_the_document_can_be_published(url: str) -> None:
    with served(make_flex(url, publish_schema=True).app) as base:
        response = httpx.get(f"{base}/schema/openapi.json")
        assert response.status_code == 200
        assert "/api/actions/orders/ship" in response.json()["paths"]
        assert post(base, "/api/actions/orders/ship", {}, headers={})[0] == 403


FUZZ_EXAMPLES = 12
"""Examples per operation and generation mode: a bounded run (about a minute on SQLite)."""


def test_schemathesis_finds_no_server_error_and_no_answer_off_its_schema(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fuzz.db'}"
    create_tables(url)
    with served(make_flex(url).app) as base:
        schema = schemathesis.openapi.from_url(f"{base}/api/openapi.json", headers=AUTH,
                                               timeout=30)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) == 11
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
                          derandomize=True, suppress_health_check=list(HealthCheck))
                @given(case=operation.as_strategy(generation_mode=mode))
                def exchange(case: Any) -> None:
                    response = case.call(base_url=base, headers=AUTH, timeout=30)
                    case.validate_response(
                        response, checks=[not_a_server_error, response_schema_conformance])

                try:
                    exchange()
                except Unsatisfiable:  # nothing to send wrong (GET /health)
                    assert mode is GenerationMode.NEGATIVE
                    assert operation.method.upper() == "GET"


def test_an_operation_previews_with_dry_run_and_commits_with_its_token(
    base: str, url: str
) -> None:
    before = statuses(url)
    status, preview = post(base, "/api/actions/orders/ship",
                           {"ids": [1, 2], "carrier": "ups", "dry_run": True})
    assert status == 200, preview
    assert (preview["result"], preview["dry_run"]) == (2, True)
    assert preview["changes"]["orders"]["updated"] == 2
    assert statuses(url) == before  # nothing saved
    assert post(base, "/api/actions/orders/ship", {
        "ids": [1, 2], "carrier": "ups", "preview_token": preview["preview_token"]}) == (
        200, {"result": 2})
    assert statuses(url)[1] == "shipped"


def _typed_flex(url: str, table: str, fields: list[str]) -> Flex:
    flex = Flex(url, settings=Settings(tokens=(AUTH["Authorization"].split()[1],), journal=False))

    @flex.action(model=table, for_instance=True, bulk=True, fields=fields)
    def edit(rows: list[Any], **values: Any) -> int:
        for row in rows:
            for column, value in values.items():
                setattr(row, column, value)
        return len(rows)

    return flex


def _edit_schema(base: str, table: str) -> dict[str, Any]:
    document = httpx.get(f"{base}/api/openapi.json", headers=AUTH).json()
    body = document["paths"][f"/api/actions/{table}/edit"]["post"]["requestBody"]
    schema: dict[str, Any] = body["content"]["application/json"]["schema"]
    assert schema == asyncio.run(_tool_inputs(base))[f"{table}__edit"]
    return schema["properties"]


@pytest.mark.postgres
def test_an_enum_arrays_items_are_described_with_the_enums_values(pg_url: str) -> None:
    run_statements(pg_url, [
        "CREATE TYPE mood AS ENUM ('happy', 'sad')",
        "CREATE TABLE days (id interval PRIMARY KEY, moods mood[], tags varchar(3)[])",
        "INSERT INTO days VALUES ('1 day', '{happy}', NULL)",
    ])
    with served(_typed_flex(pg_url, "days", ["moods", "tags"]).app) as base:
        properties = _edit_schema(base, "days")
        assert properties["moods"] == {"type": "array",
                                       "items": {"type": "string", "enum": ["happy", "sad"]}}
        # PostgreSQL holds other arrays to no number of levels: lists in lists, or values
        assert properties["tags"] == {"type": "array"}
        # an interval's id is its seconds, as answers write it
        assert properties["ids"]["items"] == {"type": "number"}
        assert post(base, "/api/actions/days/edit", {"ids": [86400], "moods": ["sad"]}) == (
            200, {"result": 1})
        assert post(base, "/api/actions/days/edit", {"ids": [86400], "moods": ["angry"]}) == (
            400, {"moods": ["Item [0]: Input should be 'happy' or 'sad'."]})


@pytest.mark.mariadb
def test_a_mysql_time_is_described_as_the_text_it_is_sent_as(mariadb_url: str) -> None:
    run_statements(mariadb_url, [
        "CREATE TABLE slots (t TIME PRIMARY KEY, length TIME(3) NULL)",
        "INSERT INTO slots VALUES ('100:00:00', NULL), ('-01:30:00', NULL)",
    ])
    with served(_typed_flex(mariadb_url, "slots", ["length"]).app) as base:
        properties = _edit_schema(base, "slots")
        pattern = re.compile(properties["length"].pop("pattern"))
        assert properties["length"] == {"type": "string"}
        assert properties["ids"]["items"] == {"type": "string", "pattern": pattern.pattern}
        for sent in ("100:00:00", "-01:30", "00:00:09.5"):
            assert pattern.search(sent)
            assert post(base, "/api/actions/slots/edit", {"ids": ["-01:30:00", "100:00:00"],
                                                          "length": sent}) == (200, {"result": 2})
        # numbers written with other digits than 0-9 are no duration
        assert not pattern.search("\u0661\u0660:\u0663\u0660")
        assert post(base, "/api/actions/slots/edit", {"ids": ["-01:30"],
                                                      "length": "\u0661\u0660:\u0663\u0660"}) == (
            400, {"length": ["Enter a time as hours:minutes[:seconds], such as 10:30, "
                             "100:00:00 or -01:30:00."]})
