"""``RawJson``: pre-encoded JSON sent as such; a ``Response`` when the app adds to responses."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Response, get
from litestar.datastructures import ResponseHeader
from litestar.testing import TestClient
from litestar.types import ASGIApp

from flexorm.server.raw import RawJson, json_answer

BODY = b'[{"name":"ping"}]'


def _client(**options: Any) -> TestClient[Litestar]:
    # handlers built per app: Litestar keeps a handler's resolved response options
    @get("/plain", sync_to_thread=False)
    def plain() -> ASGIApp:
        return RawJson(BODY)

    @get("/as-response", sync_to_thread=False)
    def as_response() -> Response[bytes]:
        answer = json_answer(BODY, raw=False)
        assert isinstance(answer, Response)
        answer.headers["X-Extra"] = "1"
        return answer

    return TestClient(Litestar(route_handlers=[plain, as_response], **options))


def test_the_bytes_are_sent_as_json() -> None:
    with _client() as client:
        response = client.get("/plain")
    assert response.status_code == 200
    assert response.content == BODY
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(BODY))


def test_headers_asked_for_are_kept() -> None:
    with _client(response_headers=[ResponseHeader(name="X-App", value="yes")]) as client:
        app_level = client.get("/as-response")
        own = client.get("/as-response")
    assert app_level.headers["x-app"] == "yes"
    assert app_level.content == BODY
    assert own.headers["x-extra"] == "1"
    assert own.content == BODY


def test_raw_only_when_asked() -> None:
    assert isinstance(json_answer(BODY, raw=True), RawJson)
    assert isinstance(json_answer(BODY, raw=False), Response)
