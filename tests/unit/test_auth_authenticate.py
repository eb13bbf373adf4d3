"""Shared-key authentication: who gets in, as which caller, and what failures say."""

from __future__ import annotations

import asyncio

import pytest

from flexorm.auth import INSECURE_CALLER, Authenticator, Caller, SharedKeys
from flexorm.auth.shared_key import AcceptedHeaders
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


# -- several kinds of credentials --------------------------------------------------------------


def _jwt_auth(**options: object) -> Authenticator:
    from tests._jet_tokens import PROJECT, key_pair

    return Authenticator.from_settings(
        Settings(jwt_public_key=key_pair().public_pem, project=PROJECT, **options)  # type: ignore[arg-type]
    )


def test_accepted_forms_follow_the_settings():
    assert _jwt_auth().accepted == ("JWT <token>",)
    both = _jwt_auth(tokens=("key-secret",), project_token="project-secret",
                     auth_url="http://127.0.0.1:9/api")
    assert both.accepted == ("Bearer <key>", "JWT <token>", "Token <token>")
    assert "project-secret" not in repr(both)
    assert "key-secret" not in repr(both)


def test_jwt_is_checked_and_wins():
    from tests._jet_tokens import key_pair

    auth = _Sync(_jwt_auth(tokens=("k",)))
    assert auth.authenticate(f"Bearer nope, JWT {key_pair().token(user=3)}").user_id == "3"
    with pytest.raises(NotAuthenticated, match="expired"):
        auth.authenticate(f"Bearer k, JWT {key_pair().token(expires_in=-60)}")


def test_a_verifier_bug_is_a_refusal_not_a_crash(monkeypatch, caplog):
    from flexorm.auth import JwtVerifier

    auth = _jwt_auth()

    def broken(_self: JwtVerifier, _token: str) -> Caller:
        raise RuntimeError("bug while reading secret-token-value")

    monkeypatch.setattr(JwtVerifier, "verify", broken)
    with pytest.raises(NotAuthenticated, match="could not be checked"):
        _Sync(auth).authenticate("JWT secret-token-value")
    assert "RuntimeError" in caplog.text
    assert "secret-token-value" not in caplog.text


def test_jwt_key_without_project_refuses_to_build():
    from tests._jet_tokens import key_pair

    with pytest.raises(ConfigurationError, match="FLEXORM_PROJECT"):
        Authenticator.from_settings(Settings(jwt_public_key=key_pair().public_pem))


# -- accepted shared keys are remembered -------------------------------------------------------


def test_an_accepted_header_is_answered_alike_again(auth):
    first = auth.authenticate("Bearer first-key")
    assert auth.authenticate("Bearer first-key") == first == Caller(kind="key", key_name="key-1")
    assert auth.authenticate("Bearer second-key").key_name == "key-2"


def test_a_refused_header_stays_refused_after_good_ones(auth):
    auth.authenticate("Bearer first-key")
    for _ in range(2):
        with pytest.raises(NotAuthenticated, match="invalid key"):
            auth.authenticate("Bearer first-ke")
        with pytest.raises(NotAuthenticated, match="invalid key"):
            auth.authenticate("Bearer wrong")


def test_remembered_headers_hold_no_secret_and_are_bounded():
    accepted = AcceptedHeaders(size=2)
    for number in (1, 2, 3):
        accepted.remember(f"Bearer key{number}", Caller(kind="key", key_name=f"key-{number}"))
    assert len(accepted) == 2
    assert accepted.get("Bearer key1") is None  # the oldest went first
    assert accepted.get("Bearer key3") == Caller(kind="key", key_name="key-3")
    assert "key3" not in repr(accepted)
    assert not any(b"key3" in digest for digest in accepted._callers)
