"""``JsonBytes``: pre-encoded JSON sent as such, or as any Response when more is asked for."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, get
from litestar.datastructures import ResponseHeader
from litestar.testing import TestClient

from flexorm.server.raw import JsonBytes

BODY = b'[{"name":"ping"}]'


def _client(**options: Any) -> TestClient[Litestar]:
    # handlers built per app: Litestar keeps a handler's resolved response options
    @get("/plain", sync_to_thread=False)
    def plain() -> JsonBytes:
        return JsonBytes(BODY)

    @get("/with-header", sync_to_thread=False)
    def with_header() -> JsonBytes:
        answer = JsonBytes(BODY)
        answer.headers["X-Extra"] = "1"
        return answer

    return TestClient(Litestar(route_handlers=[plain, with_header], **options))


def test_the_bytes_are_sent_as_json() -> None:
    with _client() as client:
        response = client.get("/plain")
    assert response.status_code == 200
    assert response.content == BODY
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(BODY))


def test_headers_asked_for_are_kept() -> None:
    with _client(response_headers=[ResponseHeader(name="X-App", value="yes")]) as client:
        app_level = client.get("/plain")
        own = client.get("/with-header")
    assert app_level.headers["x-app"] == "yes"
    assert app_level.content == BODY
    assert own.headers["x-extra"] == "1"
    assert own.content == BODY
