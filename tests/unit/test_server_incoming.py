"""Reading headers and the body from the scope: Litestar's answers, the body still readable."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar, Request, post
from litestar.exceptions import ClientException
from litestar.testing import TestClient

from flexorm.server.incoming import read_body, replaying, request_headers

LIMIT = 64


@post("/echo", status_code=200)
async def echo(request: Request[Any, Any, Any]) -> dict[str, Any]:
    content_type, length = request_headers(request.scope, b"content-type", b"content-length")
    body = await read_body(request.receive, LIMIT, length)
    readable: Request[Any, Any, Any] = Request(request.scope, replaying(body))
    return {"body": body.decode(), "again": (await readable.body()).decode(),
            "content_type": content_type}


def _client() -> TestClient[Litestar]:
    return TestClient(Litestar(route_handlers=[echo]))


def _chunks(*parts: bytes) -> Iterator[bytes]:
    yield from parts


def test_the_body_is_read_once_and_request_body_still_returns_it() -> None:
    with _client() as client:
        answer = client.post("/echo", content=b'{"a": 1}',
                             headers={"Content-Type": "application/json"})
    assert answer.status_code == 200
    assert answer.json() == {"body": '{"a": 1}', "again": '{"a": 1}',
                             "content_type": "application/json"}


def test_a_body_sent_in_chunks_is_joined() -> None:
    with _client() as client:
        answer = client.post("/echo", content=_chunks(b"ab", b"cd"))
    assert answer.json()["body"] == "abcd"


def test_too_large_announced_or_sent_is_413() -> None:
    with _client() as client:
        announced = client.post("/echo", content=b"x" * (LIMIT + 1))
        streamed = client.post("/echo", content=_chunks(b"x" * LIMIT, b"x"))
        at_limit = client.post("/echo", content=b"x" * LIMIT)
    assert announced.status_code == 413
    assert streamed.status_code == 413
    assert at_limit.status_code == 200


def test_a_content_length_that_is_not_a_number_is_a_client_error() -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"abc", "more_body": False}

    with pytest.raises(ClientException, match="Invalid content-length"):
        asyncio.run(read_body(receive, LIMIT, "12x"))
    assert asyncio.run(read_body(receive, LIMIT, "3")) == b"abc"


def test_headers_first_value_any_case() -> None:
    scope = {"headers": [(b"Authorization", b"Bearer a"), (b"authorization", b"Bearer b"),
                         (b"x-other", b"1")]}
    assert request_headers(scope, b"authorization", b"content-type") == ["Bearer a", None]


def test_a_replayed_body_is_followed_by_what_the_connection_receives() -> None:
    async def connection() -> Any:
        return {"type": "http.disconnect", "from": "connection"}

    async def main() -> list[Any]:
        replay = replaying(b"{}", then=connection)
        return [await replay(), await replay()]

    assert asyncio.run(main()) == [{"type": "http.request", "body": b"{}", "more_body": False},
                                   {"type": "http.disconnect", "from": "connection"}]
