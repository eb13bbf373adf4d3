"""``Authorization: JWT <token>``: Jet Admin's RS256 tokens, checked against its public key.

Jet Admin signs a token per user session with its private RSA key. The payload carries the user
(``user``) and, per project the user belongs to, what they may do::

    {"user": 42, "exp": 1700000000,
     "projects": {"shop": {"owner": false, "super_group": false, "read_only": false,
                           "permissions": "<base64 of gzipped JSON list>"}}}

``permissions`` entries look like ``{"permission_type": "model", "permission_object":
"<resource>.<collection>", "permission_actions": "rwd"}``; :mod:`flexorm.actions.policies` reads
them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from flexorm.auth.caller import Caller
from flexorm.exceptions import ConfigurationError, NotAuthenticated

__all__ = ["JwtVerifier", "decode_permissions", "load_public_key"]

MAX_TOKEN_LENGTH = 65_536
"""Longer credentials are refused before any parsing (a real one is a few kilobytes)."""

_MAX_PERMISSIONS_BYTES = 8 * 1024 * 1024
_ALGORITHMS = ["RS256"]


def load_public_key(source: str) -> RSAPublicKey:
    """The RSA public key in ``source``: PEM text, or the path of a PEM file.

    PEM text squeezed onto one line with literal ``\\n`` sequences (as environment variables
    often hold it) is accepted too.

    Raises:
        ConfigurationError: the file cannot be read, or holds no RSA public key.
    """
    text = source.strip()
    if "-----BEGIN" not in text:
        path = Path(text).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or type(error).__name__
            raise ConfigurationError(
                f"the JWT public key is neither PEM text nor a readable file: {path} ({reason})"
            ) from None
    text = text.replace("\\n", "\n")
    if "PRIVATE KEY" in text:
        raise ConfigurationError(
            "the JWT public key setting holds a private key: configure the public key only"
        )
    try:
        key = load_pem_public_key(text.encode("utf-8"))
    except (ValueError, TypeError):
        raise ConfigurationError(
            "the JWT public key is not a PEM public key "
            "(expected -----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----)"
        ) from None
    if not isinstance(key, RSAPublicKey):
        raise ConfigurationError(
            f"the JWT public key must be an RSA key (Jet Admin signs with RS256), "
            f"not {type(key).__name__}"
        )
    return key


def decode_permissions(value: Any) -> tuple[Mapping[str, Any], ...]:
    """A project's ``permissions`` claim as a tuple of entries.

    Jet Admin sends the list gzipped and base64-encoded; a plain JSON list is accepted too.

    Raises:
        ValueError: the claim is neither.
    """
    if value is None:
        return ()
    if isinstance(value, str):
        try:
            packed = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("permissions are not base64") from None
        inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 32)  # gzip or zlib header
        try:
            raw = inflater.decompress(packed, _MAX_PERMISSIONS_BYTES)
        except zlib.error:
            raise ValueError("permissions are not gzipped") from None
        if inflater.unconsumed_tail:
            raise ValueError("permissions are too large")
        try:
            value = json.loads(raw)
        except ValueError:
            raise ValueError("permissions are not JSON") from None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ValueError("permissions are not a list of objects")
    return tuple(value)


class JwtVerifier:
    """Verifies Jet Admin JWTs for one project.

    The key is parsed once, here; :meth:`verify` then costs one RSA signature check.

    Args:
        public_key: Jet Admin's RSA public key, as PEM text or the path of a PEM file.
        project: the project name a token must carry under ``projects``.
        project_token: the project token, when known. Permission entries that name another
            resource (their ``resource_token_hash`` is not this token's SHA-256) are dropped.
        leeway: seconds of clock difference tolerated when checking ``exp``.

    Raises:
        ConfigurationError: a key that cannot be used, or an empty project name.

    Examples:
        >>> verifier = JwtVerifier(open("jet_admin.pem").read(), "shop")  # doctest: +SKIP
        >>> verifier.verify(token).user_id  # doctest: +SKIP
        '42'
    """

    __slots__ = ("_key", "_leeway", "_project", "_resource_hash")

    def __init__(
        self,
        public_key: str,
        project: str,
        *,
        project_token: str | None = None,
        leeway: float = 10.0,
    ) -> None:
        if not project:
            raise ConfigurationError(
                "a JWT public key needs the Jet Admin project name: set FLEXORM_PROJECT"
            )
        self._key = load_public_key(public_key)
        self._project = project
        self._leeway = leeway
        self._resource_hash = (
            hashlib.sha256(project_token.replace("-", "").lower().encode("utf-8"))
            .hexdigest()
            .encode("ascii")
            if project_token
            else None
        )

    def __repr__(self) -> str:
        return f"JwtVerifier(project={self._project!r})"

    @property
    def project(self) -> str:
        return self._project

    def verify(self, token: str) -> Caller:
        """The caller a JWT identifies.

        Raises:
            NotAuthenticated: the token is malformed, not RS256, not signed by the configured
                key, expired, or not for this project. The reason never quotes the token.
        """
        payload = self._decode(token)
        projects = payload.get("projects")
        entry = projects.get(self._project) if isinstance(projects, dict) else None
        if not isinstance(entry, dict):
            raise NotAuthenticated(f"the JWT does not grant access to project {self._project!r}")
        try:
            permissions = decode_permissions(entry.get("permissions"))
        except ValueError as error:
            raise NotAuthenticated(f"the JWT's permissions cannot be read: {error}") from None
        user = payload.get("user")
        return Caller(
            kind="jwt",
            user_id=None if user is None else str(user),
            project=self._project,
            # Anything but an explicit false counts as read-only; only an explicit true grants.
            read_only=entry.get("read_only", False) is not False,
            owner=entry.get("owner") is True,
            super_group=entry.get("super_group") is True,
            permissions=self._for_this_resource(permissions),
            claims=payload,
        )

    def _decode(self, token: str) -> dict[str, Any]:
        if len(token) > MAX_TOKEN_LENGTH:
            raise NotAuthenticated("the JWT is too long")
        try:
            return jwt.decode(token, self._key, algorithms=_ALGORITHMS, leeway=self._leeway)
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("the JWT has expired") from None
        except jwt.InvalidAlgorithmError:
            raise NotAuthenticated("the JWT is not signed with RS256") from None
        except jwt.InvalidSignatureError:
            raise NotAuthenticated("the JWT is not signed by the configured public key") from None
        except jwt.DecodeError:
            raise NotAuthenticated("the JWT is malformed") from None
        except jwt.InvalidTokenError as error:
            raise NotAuthenticated(f"the JWT is not valid ({type(error).__name__})") from None
        except (OverflowError, TypeError, ValueError):  # odd claim values, e.g. "exp": 1e400
            raise NotAuthenticated("the JWT is malformed") from None

    def _for_this_resource(
        self, permissions: tuple[Mapping[str, Any], ...]
    ) -> tuple[Mapping[str, Any], ...]:
        expected = self._resource_hash
        if expected is None:
            return permissions
        return tuple(
            item
            for item in permissions
            if not item.get("resource_token_hash")
            or hmac.compare_digest(
                str(item["resource_token_hash"]).lower().encode("utf-8"), expected
            )
        )
