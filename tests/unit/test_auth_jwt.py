"""JWT verification: what Jet Admin signs is accepted, everything else is refused."""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from flexorm.auth.jwt import MAX_TOKEN_LENGTH, JwtVerifier, decode_permissions, load_public_key
from flexorm.exceptions import ConfigurationError, NotAuthenticated

PROJECT = "shop"


def _pem_public(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _pack(permissions: list[dict[str, Any]]) -> str:
    return base64.b64encode(gzip.compress(json.dumps(permissions).encode())).decode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**project: Any) -> dict[str, Any]:
    entry = {"owner": False, "super_group": False, "read_only": False, **project}
    return {"user": 42, "projects": {PROJECT: entry}}


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def public_pem(private_key: rsa.RSAPrivateKey) -> str:
    return _pem_public(private_key)


@pytest.fixture(scope="module")
def verifier(public_pem: str) -> JwtVerifier:
    return JwtVerifier(public_pem, PROJECT)


@pytest.fixture
def sign(private_key: rsa.RSAPrivateKey):
    def sign(payload: dict[str, Any], key: rsa.RSAPrivateKey | None = None) -> str:
        return pyjwt.encode(payload, key or private_key, algorithm="RS256")

    return sign


def test_valid_token_gives_the_caller(verifier: JwtVerifier, sign) -> None:
    permissions = [
        {"permission_type": "model", "permission_object": "db.orders", "permission_actions": "rw"}
    ]
    token = sign({**_claims(permissions=_pack(permissions)), "exp": int(time.time()) + 300})
    caller = verifier.verify(token)
    assert caller.kind == "jwt"
    assert caller.user_id == "42"
    assert caller.project == PROJECT
    assert (caller.read_only, caller.owner, caller.super_group) == (False, False, False)
    assert caller.permissions == tuple(permissions)
    assert caller.claims["user"] == 42


def test_token_without_exp_is_accepted(verifier: JwtVerifier, sign) -> None:
    assert verifier.verify(sign(_claims(owner=True))).owner


def test_flags_are_read(verifier: JwtVerifier, sign) -> None:
    caller = verifier.verify(sign(_claims(read_only=True, super_group=True)))
    assert caller.read_only
    assert caller.super_group
    assert not caller.owner


def test_plain_permission_list_is_accepted(verifier: JwtVerifier, sign) -> None:
    entry = {"permission_type": "model", "permission_object": "orders", "permission_actions": "r"}
    assert verifier.verify(sign(_claims(permissions=[entry]))).permissions == (entry,)


def test_expired_token_is_refused(verifier: JwtVerifier, sign) -> None:
    token = sign({**_claims(owner=True), "exp": int(time.time()) - 3600})
    with pytest.raises(NotAuthenticated, match="expired"):
        verifier.verify(token)


def test_token_signed_by_another_key_is_refused(
    verifier: JwtVerifier, sign, other_key: rsa.RSAPrivateKey
) -> None:
    with pytest.raises(NotAuthenticated, match="not signed by the configured public key"):
        verifier.verify(sign(_claims(owner=True), other_key))


def test_hs256_signed_with_the_public_key_is_refused(verifier: JwtVerifier, public_pem: str):
    # The classic confusion attack: an HMAC "signature" keyed with the (public) RSA key.
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(_claims(owner=True)).encode())
    signature = hmac.new(public_pem.encode(), f"{header}.{body}".encode(), hashlib.sha256)
    token = f"{header}.{body}.{_b64(signature.digest())}"
    with pytest.raises(NotAuthenticated, match="RS256"):
        verifier.verify(token)


def test_alg_none_is_refused(verifier: JwtVerifier) -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    body = _b64(json.dumps(_claims(owner=True)).encode())
    with pytest.raises(NotAuthenticated, match="RS256"):
        verifier.verify(f"{header}.{body}.")


def test_other_rsa_algorithm_is_refused(verifier: JwtVerifier, private_key) -> None:
    token = pyjwt.encode(_claims(owner=True), private_key, algorithm="RS512")
    with pytest.raises(NotAuthenticated, match="RS256"):
        verifier.verify(token)


def test_token_for_another_project_is_refused(verifier: JwtVerifier, sign) -> None:
    token = sign({"user": 1, "projects": {"other": {"owner": True}}})
    with pytest.raises(NotAuthenticated, match="project 'shop'"):
        verifier.verify(token)


@pytest.mark.parametrize(
    "payload",
    [{"user": 1}, {"user": 1, "projects": ["shop"]}, {"user": 1, "projects": {"shop": True}}],
    ids=["no-projects", "projects-list", "project-not-object"],
)
def test_payload_without_the_project_entry_is_refused(verifier, sign, payload) -> None:
    with pytest.raises(NotAuthenticated, match="does not grant access"):
        verifier.verify(sign(payload))


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b", "a.b.c", "!!!.@@@.###", "eyJhbGciOiJSUzI1NiJ9.%%%%.zzzz", "JWT x.y.z"],
)
def test_malformed_tokens_are_refused(verifier: JwtVerifier, token: str) -> None:
    with pytest.raises(NotAuthenticated) as info:
        verifier.verify(token)
    assert "malformed" in info.value.message or "RS256" in info.value.message


def test_garbage_base64_segments_are_refused(verifier: JwtVerifier, sign) -> None:
    header, _body, signature = sign(_claims(owner=True)).split(".")
    garbage = _b64(b"\xff\xfe not json")
    # The signature is checked before the payload is read: either refusal is right.
    with pytest.raises(NotAuthenticated, match=r"malformed|not signed by"):
        verifier.verify(f"{header}.{garbage}.{signature}")


def test_tampered_payload_is_refused(verifier: JwtVerifier, sign) -> None:
    header, _body, signature = sign(_claims(owner=False)).split(".")
    forged = _b64(json.dumps(_claims(owner=True)).encode())
    with pytest.raises(NotAuthenticated, match="not signed by"):
        verifier.verify(f"{header}.{forged}.{signature}")


def test_huge_token_is_refused_before_parsing(verifier: JwtVerifier) -> None:
    token = "a" * (MAX_TOKEN_LENGTH + 1)
    with pytest.raises(NotAuthenticated, match="too long"):
        verifier.verify(token)


def test_unreadable_permissions_are_refused(verifier: JwtVerifier, sign) -> None:
    with pytest.raises(NotAuthenticated, match="permissions"):
        verifier.verify(sign(_claims(permissions="bm90IGd6aXA=")))


def test_refusals_never_quote_the_token(verifier: JwtVerifier, sign, other_key) -> None:
    tokens = [
        sign(_claims(owner=True), other_key),
        sign({**_claims(), "exp": 1}),
        sign({"projects": {}}),
        "secret-looking-garbage",
    ]
    for token in tokens:
        with pytest.raises(NotAuthenticated) as info:
            verifier.verify(token)
        assert token not in info.value.message
        for part in token.split("."):
            assert part not in info.value.message or len(part) < 4


def test_permissions_of_other_resources_are_dropped(public_pem: str, sign) -> None:
    token_hash = hashlib.sha256(b"abcdef0123").hexdigest()
    ours = {"permission_type": "model", "permission_object": "orders", "permission_actions": "r"}
    theirs = {**ours, "permission_actions": "rwd", "resource_token_hash": "0" * 64}
    mine = {**ours, "permission_actions": "rw", "resource_token_hash": token_hash}
    verifier = JwtVerifier(public_pem, PROJECT, project_token="ABCDEF-0123")
    caller = verifier.verify(sign(_claims(permissions=_pack([ours, theirs, mine]))))
    assert caller.permissions == (ours, mine)


def test_decode_permissions_shapes() -> None:
    entries = [{"permission_type": "model", "permission_object": "a", "permission_actions": "r"}]
    assert decode_permissions(None) == ()
    assert decode_permissions(_pack(entries)) == tuple(entries)
    with pytest.raises(ValueError, match="base64"):
        decode_permissions("***")
    with pytest.raises(ValueError, match="list of objects"):
        decode_permissions({"a": 1})


def test_gzip_bomb_in_permissions_is_refused() -> None:
    bomb = base64.b64encode(gzip.compress(b"[" + b" " * (9 * 1024 * 1024) + b"]")).decode()
    with pytest.raises(ValueError, match="too large"):
        decode_permissions(bomb)


class TestKeyLoading:
    def test_pem_file_path(self, tmp_path: Path, public_pem: str, sign) -> None:
        path = tmp_path / "jet.pem"
        path.write_text(public_pem)
        assert JwtVerifier(str(path), PROJECT).verify(sign(_claims(owner=True))).owner

    def test_one_line_pem_with_escaped_newlines(self, public_pem: str, sign) -> None:
        one_line = public_pem.replace("\n", "\\n")
        assert JwtVerifier(one_line, PROJECT).verify(sign(_claims(owner=True))).owner

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigurationError, match="neither PEM text nor a readable file"):
            JwtVerifier(str(tmp_path / "missing.pem"), PROJECT)

    def test_garbage_pem(self) -> None:
        with pytest.raises(ConfigurationError, match="not a PEM public key"):
            load_public_key("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")

    def test_private_key_is_refused(self, private_key: rsa.RSAPrivateKey) -> None:
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        with pytest.raises(ConfigurationError, match="private key") as info:
            load_public_key(pem)
        assert "BEGIN" not in info.value.message

    def test_non_rsa_key_is_refused(self) -> None:
        pem = (
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        with pytest.raises(ConfigurationError, match="RSA"):
            load_public_key(pem)

    def test_project_is_required(self, public_pem: str) -> None:
        with pytest.raises(ConfigurationError, match="FLEXORM_PROJECT"):
            JwtVerifier(public_pem, "")


class TestSettings:
    def test_auth_settings_from_env(self, tmp_path: Path, public_pem: str, sign) -> None:
        from flexorm.settings import Settings

        path = tmp_path / "jet.pem"
        path.write_text(public_pem)
        settings = Settings.from_env(
            {
                "FLEXORM_JWT_PUBLIC_KEY": str(path),
                "FLEXORM_PROJECT": PROJECT,
                "FLEXORM_PROJECT_TOKEN": "secret-project-token",
                "FLEXORM_AUTH_URL": "http://jet.internal/api",
                "FLEXORM_AUTH_CACHE_SECONDS": "30",
                "FLEXORM_AUTH_TIMEOUT": "2.5",
            }
        )
        assert (settings.auth_url, settings.auth_cache_seconds, settings.auth_timeout) == (
            "http://jet.internal/api",
            30,
            2.5,
        )
        assert "secret-project-token" not in repr(settings)
        assert settings.jwt_public_key is not None
        assert settings.project is not None
        verifier = JwtVerifier(settings.jwt_public_key, settings.project)
        assert verifier.verify(sign(_claims(owner=True))).owner

    @pytest.mark.parametrize("value", ["soon", "0", "-1"])
    def test_bad_timeout(self, value: str) -> None:
        from flexorm.settings import Settings

        with pytest.raises(ConfigurationError, match="FLEXORM_AUTH_TIMEOUT"):
            Settings.from_env({"FLEXORM_AUTH_TIMEOUT": value})
