"""Shared-key authentication: who gets in, as which caller, and what failures say."""

from __future__ import annotations

import asyncio

import pytest

from flexorm.auth import INSECURE_CALLER, Authenticator, Caller, SharedKeys
from flexorm.exceptions import ConfigurationError, NotAuthenticated
from flexorm.settings import Settings


class _Sync:
    """The authenticator, awaited: these checks need no event loop of their own."""

    def __init__(self, authenticator: Authenticator) -> None:
        self.authenticator = authenticator

    def authenticate(self, header: str | None) -> Caller:
        return asyncio.run(self.authenticator.authenticate(header))


@pytest.fixture
def auth() -> _Sync:
    return _Sync(Authenticator(["first-key", "second-key"]))


def test_right_keys_name_the_key_not_its_value(auth):
    assert auth.authenticate("Bearer first-key") == Caller(kind="key", key_name="key-1")
    assert auth.authenticate("Bearer second-key") == Caller(kind="key", key_name="key-2")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "authentication required: send Authorization: Bearer <key>"),
        ("", "authentication required: send Authorization: Bearer <key>"),
        ("Bearer wrong", "invalid key"),
        ("Bearer first-key-and-more", "invalid key"),
        ("Bearer first-ke", "invalid key"),
        ("bearer first-key",
         "this authorization type is not accepted: send Authorization: Bearer <key>"),
        ("Basic Zmlyc3Qta2V5",
         "Basic authorization type is not accepted: send Authorization: Bearer <key>"),
        ("Bearer first-key, JWT x.y.z",
         "JWT authorization type is not accepted: send Authorization: Bearer <key>"),
        ("first-key x",
         "this authorization type is not accepted: send Authorization: Bearer <key>"),
    ],
)
def test_refusals(auth, header, message):
    with pytest.raises(NotAuthenticated) as info:
        auth.authenticate(header)
    assert info.value.message == message
    assert "first-key" not in info.value.message


def test_non_ascii_value_is_refused_not_crashing(auth):
    with pytest.raises(NotAuthenticated):
        auth.authenticate("Bearer ключ")


def test_first_of_several_credentials_counts(auth):
    assert auth.authenticate("Bearer second-key, Token t").key_name == "key-2"


def test_insecure_accepts_anything():
    auth = _Sync(Authenticator([], insecure=True))
    assert auth.authenticate(None) is INSECURE_CALLER
    assert auth.authenticate("Bearer whatever").kind == "insecure"


def test_no_key_and_not_insecure_refuses_to_build():
    with pytest.raises(ConfigurationError, match=r"--token KEY .*FLEXORM_TOKEN.*--insecure"):
        Authenticator([])
    with pytest.raises(ConfigurationError):
        Authenticator.from_settings(Settings(tokens=("",)))


def test_from_settings():
    auth = _Sync(Authenticator.from_settings(Settings(tokens=("k",))))
    assert auth.authenticate("Bearer k").kind == "key"


def test_shared_keys_never_show_their_values():
    keys = SharedKeys(["s3cret"])
    assert "s3cret" not in repr(keys)
    assert len(keys) == 1
    assert keys.check("s3cret") == Caller(kind="key", key_name="key-1")
