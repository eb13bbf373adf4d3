"""Records of a composite key through MCP tools and HTTP operations, on every database.

The tools' and operations' schemas describe such a record as the object of its key's columns,
the one form that always names a single record (its first column alone may name many) and the
form ``get_field_options`` offers; a client that keeps to the schema can call the action.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import httpx2
import pytest
import sqlalchemy as sa
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from flexorm import ActionContext, Flex, Settings
from tests._served import served
from tests.conftest import sync_engine

TOKEN = "composite-key"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

METADATA = sa.MetaData()
SEATS = sa.Table("seats", METADATA,
                 sa.Column("aircraft", sa.String(3), primary_key=True),
                 sa.Column("seat_no", sa.String(4), primary_key=True),
                 sa.Column("fare", sa.String(10), nullable=False),
                 sa.Column("taken", sa.Integer, nullable=False))
BOOKINGS = sa.Table("bookings", METADATA,
                    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                    sa.Column("seat_label", sa.String(10)))

KEY = {"type": "object",
       "properties": {"aircraft": {"type": "string"}, "seat_no": {"type": "string"}},
       "required": ["aircraft", "seat_no"], "additionalProperties": False}


def _flex(url: str) -> Flex:
    engine = sync_engine(url)
    METADATA.create_all(engine)
    with engine.begin() as conn:
        conn.execute(SEATS.insert(), [
            {"aircraft": "773", "seat_no": seat, "fare": "Economy", "taken": 0}
            for seat in ("1A", "1B", "2A")] + [
            {"aircraft": "320", "seat_no": "1A", "fare": "Business", "taken": 0}])
        conn.execute(BOOKINGS.insert(), [{"id": 1, "seat_label": None}])
    engine.dispose()
    flex = Flex(url, settings=Settings(tokens=(TOKEN,), journal=False))
    Seat = flex.model("seats")

    @flex.action(model="seats", for_instance=True, bulk=True)
    def take(seats: list[Any]) -> list[str]:
        for seat in seats:
            seat.taken = 1
        return sorted(f"{seat.aircraft} {seat.seat_no}" for seat in seats)

    @flex.action(model="bookings", for_instance=True)
    def book(booking: Any, seat: Seat, ctx: ActionContext) -> str:
        booking.seat_label = f"{seat.aircraft} {seat.seat_no}"
        return str(booking.seat_label)

    return flex


def _taken(url: str) -> list[tuple[str, str]]:
    engine = sync_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(SEATS.c.aircraft, SEATS.c.seat_no)
                            .where(SEATS.c.taken == 1)
                            .order_by(SEATS.c.aircraft, SEATS.c.seat_no)).all()
    engine.dispose()
    return [(aircraft, seat) for aircraft, seat in rows]


def _mcp(base: str, name: str, arguments: dict[str, Any]) -> tuple[list[Any], Any]:
    async def main() -> tuple[list[Any], Any]:
        async with httpx2.AsyncClient(headers=AUTH) as http:
            transport = streamable_http_client(f"{base}/mcp", http_client=http)
            async with Client(transport) as client:
                tools = (await client.list_tools()).tools
                return tools, await client.call_tool(name, arguments)

    return asyncio.run(main())


@pytest.fixture
def url(any_url: str) -> str:
    return any_url


def test_a_composite_key_is_an_object_in_the_schemas_and_names_one_record(url: str) -> None:
    with served(_flex(url).app) as base:
        tools, called = _mcp(base, "seats__take",
                             {"ids": [{"aircraft": "773", "seat_no": "1B"}]})
        schemas = {tool.name: tool.input_schema for tool in tools}
        ids = schemas["seats__take"]["properties"]["ids"]
        assert ids["items"] == KEY
        assert ids["description"] == ("The ids of the seats records to run on (each the "
                                      "object of its key: aircraft, seat_no).")
        seat = schemas["bookings__book"]["properties"]["seat"]
        assert seat == {**KEY, "description": "The key of a record of seats (find one with "
                                              "the get_field_options tool)."}
        assert not called.is_error, called.content
        assert called.structured_content == {"result": ["773 1B"]}

        document = httpx.get(f"{base}/schema/openapi.json", headers=AUTH).json()
        assert KEY.items() <= _body_schema(document, "/api/actions/seats/take")[
            "properties"]["ids"]["items"].items()
        answer = httpx.post(f"{base}/api/actions/bookings/book", headers=AUTH,
                            json={"id": 1, "seat": {"aircraft": "320", "seat_no": "1A"}})
        assert (answer.status_code, answer.json()) == (200, {"result": "320 1A"})
        refused = httpx.post(f"{base}/api/actions/seats/take", headers=AUTH,
                             json={"ids": ["773"]})  # the first column alone: three seats
        assert refused.status_code == 400, refused.text
    assert _taken(url) == [("773", "1B")]


def _body_schema(document: dict[str, Any], path: str) -> dict[str, Any]:
    schema = document["paths"][path]["post"]["requestBody"]["content"]["application/json"][
        "schema"]
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return dict(schema)
