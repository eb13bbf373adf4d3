"""Token/ProjectToken credentials checked against a real (fake) Jet Admin auth server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from flexorm.auth.project_token import ProjectTokenVerifier
from flexorm.exceptions import ConfigurationError, NotAuthenticated
from tests._fake_auth_server import (
    PROJECT_TOKEN,
    FakeAuthServer,
    closed_port_url,
    running_fake_auth_server,
)

T = TypeVar("T")


@pytest.fixture
def server() -> Iterator[FakeAuthServer]:
    with running_fake_auth_server() as fake:
        yield fake


def _run(url: str, body: Callable[[ProjectTokenVerifier], Awaitable[T]], **options: Any) -> T:
    """Run ``body`` with a verifier in a fresh event loop, closing the verifier after."""
    options = {"cache_seconds": 60, "timeout": 5.0, **options}

    async def main() -> T:
        verifier = ProjectTokenVerifier(url, "shop", PROJECT_TOKEN, **options)
        try:
            return await body(verifier)
        finally:
            await verifier.aclose()

    return asyncio.run(main())


def _refusal(url: str, token: str, **options: Any) -> str:
    async def body(verifier: ProjectTokenVerifier) -> str:
        with pytest.raises(NotAuthenticated) as info:
            await verifier.verify(token, "Token")
        return info.value.message

    return _run(url, body, **options)


def test_accepted_token_gives_a_caller(server: FakeAuthServer) -> None:
    caller = _run(server.base_url, lambda v: v.verify("good-1", "ProjectToken"))
    assert caller.kind == "token"
    assert caller.project == "shop"
    assert caller.user_id is None
    assert caller.claims["user"] == "good-1"
    assert caller.claims["kind"] == "ProjectToken"
    assert server.calls == [
        {"path": "/api/project_auth/", "project_token": PROJECT_TOKEN, "token": "good-1"}
    ]


def test_both_kinds_post_the_same_form(server: FakeAuthServer) -> None:
    async def body(verifier: ProjectTokenVerifier) -> None:
        await verifier.verify("good-a", "Token")
        await verifier.verify("good-b", "ProjectToken")

    _run(server.base_url, body)
    assert [set(call) for call in server.calls] == [{"path", "project_token", "token"}] * 2


def test_refused_token(server: FakeAuthServer) -> None:
    assert _refusal(server.base_url, "wrong") == "Jet Admin refused the token"


def test_access_disabled_is_refused(server: FakeAuthServer) -> None:
    assert "disabled" in _refusal(server.base_url, "disabled-1")


def test_failing_auth_server_is_refused(server: FakeAuthServer) -> None:
    assert _refusal(server.base_url, "broken-1") == "the Jet Admin auth server failed"


def test_non_json_answer_is_refused(server: FakeAuthServer) -> None:
    assert _refusal(server.base_url, "notjson-1") == "the Jet Admin auth server failed"


def test_wrong_project_token_is_refused(server: FakeAuthServer) -> None:
    async def body(verifier: ProjectTokenVerifier) -> str:
        with pytest.raises(NotAuthenticated) as info:
            await verifier.verify("good-1", "Token")
        return info.value.message

    async def main() -> str:
        verifier = ProjectTokenVerifier(server.base_url, "shop", "not-the-token")
        try:
            return await body(verifier)
        finally:
            await verifier.aclose()

    assert asyncio.run(main()) == "Jet Admin refused the token"


def test_slow_auth_server_times_out(server: FakeAuthServer) -> None:
    message = _refusal(server.base_url, "slow-1", timeout=0.3)
    assert message == "the Jet Admin auth server did not answer"


def test_unreachable_auth_server(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="flexorm.auth.project_token")
    message = _refusal(closed_port_url(), "good-secret-value", timeout=2.0)
    assert message == "the Jet Admin auth server did not answer"
    assert "good-secret-value" not in caplog.text
    assert "did not answer" in caplog.text


def test_answers_are_cached(server: FakeAuthServer) -> None:
    async def body(verifier: ProjectTokenVerifier) -> None:
        for _ in range(3):
            await verifier.verify("good-1", "Token")
        for _ in range(3):
            with pytest.raises(NotAuthenticated):
                await verifier.verify("nope-1", "Token")

    _run(server.base_url, body)
    assert server.count("good-1") == 1
    assert server.count("nope-1") == 1


def test_zero_cache_asks_every_time(server: FakeAuthServer) -> None:
    async def body(verifier: ProjectTokenVerifier) -> None:
        await verifier.verify("good-1", "Token")
        await verifier.verify("good-1", "Token")

    _run(server.base_url, body, cache_seconds=0)
    assert server.count("good-1") == 2


def test_cache_is_bounded_oldest_first(server: FakeAuthServer) -> None:
    async def body(verifier: ProjectTokenVerifier) -> None:
        for token in ("good-a", "good-b", "good-c", "good-c", "good-a"):
            await verifier.verify(token, "Token")

    _run(server.base_url, body, max_entries=2)
    assert server.count("good-c") == 1
    assert server.count("good-a") == 2  # evicted by good-c, asked again


def test_cache_keys_hold_no_token(server: FakeAuthServer) -> None:
    async def body(verifier: ProjectTokenVerifier) -> list[bytes]:
        await verifier.verify("good-visible", "Token")
        return list(verifier._cache)

    keys = _run(server.base_url, body)
    assert len(keys) == 1
    assert b"good-visible" not in keys[0]


def test_params_are_sent_and_part_of_the_cache_key(server: FakeAuthServer) -> None:
    permission = {
        "permission_type": "model",
        "permission_object": "orders",
        "permission_actions": "w",
    }

    async def body(verifier: ProjectTokenVerifier) -> None:
        await verifier.verify("good-1", "Token")
        await verifier.verify("good-1", "Token", params=permission)
        await verifier.verify("good-1", "Token", params=permission)

    _run(server.base_url, body)
    assert server.count("good-1") == 2
    assert server.calls[1]["permission_object"] == "orders"


def test_concurrent_checks_share_one_call(server: FakeAuthServer) -> None:
    async def body(verifier: ProjectTokenVerifier) -> list[str | None]:
        callers = await asyncio.gather(*(verifier.verify("delayed-1", "Token") for _ in range(20)))
        return [caller.claims.get("user") for caller in callers]

    assert _run(server.base_url, body) == ["delayed-1"] * 20
    assert server.count() == 1


def test_a_cancelled_caller_does_not_fail_the_others(server: FakeAuthServer) -> None:
    async def body(verifier: ProjectTokenVerifier) -> str:
        first = asyncio.create_task(verifier.verify("delayed-2", "Token"))
        second = asyncio.create_task(verifier.verify("delayed-2", "Token"))
        await asyncio.sleep(0)
        first.cancel()
        caller = await second
        with pytest.raises(asyncio.CancelledError):
            await first
        return str(caller.claims["user"])

    assert _run(server.base_url, body) == "delayed-2"
    assert server.count() == 1


def test_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="FLEXORM_PROJECT_TOKEN"):
        ProjectTokenVerifier("https://api.jetadmin.io/api", "shop", "")
    with pytest.raises(ConfigurationError, match="http"):
        ProjectTokenVerifier("api.jetadmin.io", "shop", PROJECT_TOKEN)


def test_default_url_is_jet_admins_project_auth() -> None:
    from flexorm.settings import Settings

    verifier = ProjectTokenVerifier(Settings().auth_url, "shop", PROJECT_TOKEN)
    assert verifier.url == "https://api.jetadmin.io/api/project_auth/"


def test_an_outage_is_remembered_for_every_token_then_asked_again(
        server: FakeAuthServer) -> None:
    async def body(verifier: ProjectTokenVerifier) -> list[str]:
        refused = []
        for token in ("slow-1", "good-2", "good-3"):
            with pytest.raises(NotAuthenticated) as info:
                await verifier.verify(token, "Token")
            refused.append(info.value.message)
        await asyncio.sleep(0.6)  # past the remembered failure: the next token is asked
        caller = await verifier.verify("good-4", "Token")
        assert caller.kind == "token"
        await verifier.verify("good-2", "Token")  # the server is up: not refused any more
        return refused

    refused = _run(server.base_url, body, timeout=0.3, failure_cache_seconds=0.5)
    assert refused == ["the Jet Admin auth server did not answer"] * 3
    # during the outage, new tokens were refused without a call (each would have waited)
    assert (server.count("good-2"), server.count("good-3"), server.count("good-4")) == (1, 0, 1)
