"""Jet Admin-like JWTs for tests: a locally generated RSA key pair, and tokens signed with it."""

from __future__ import annotations

import base64
import gzip
import json
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import jwt as pyjwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PROJECT = "shop"


def pack_permissions(permissions: list[dict[str, Any]]) -> str:
    """The ``permissions`` claim as Jet Admin sends it: gzipped JSON, base64."""
    return base64.b64encode(gzip.compress(json.dumps(permissions).encode())).decode()


def model_permission(collection: str, actions: str) -> dict[str, Any]:
    return {"permission_type": "model", "permission_object": f"db.{collection}",
            "permission_actions": actions}


@dataclass(frozen=True)
class KeyPair:
    private: rsa.RSAPrivateKey

    @property
    def public_pem(self) -> str:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def sign(self, payload: dict[str, Any]) -> str:
        return pyjwt.encode(payload, self.private, algorithm="RS256")

    def token(self, user: int | str = 42, *, project: str = PROJECT, expires_in: int = 300,
              permissions: list[dict[str, Any]] | None = None, **flags: Any) -> str:
        """A token for ``user`` in ``project``; ``flags`` are ``owner``/``super_group``/
        ``read_only``."""
        entry: dict[str, Any] = {"owner": False, "super_group": False, "read_only": False,
                                 **flags}
        if permissions is not None:
            entry["permissions"] = pack_permissions(permissions)
        payload = {"user": user, "projects": {project: entry},
                   "exp": int(time.time()) + expires_in}
        return self.sign(payload)


@cache
def key_pair(name: str = "jet-admin") -> KeyPair:
    """One generated key pair per name for the whole test session (generation is slow)."""
    del name
    return KeyPair(rsa.generate_private_key(public_exponent=65537, key_size=2048))
