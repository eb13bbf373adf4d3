"""Who is calling: credentials from the ``Authorization`` header, checked; who may run what."""

from typing import TYPE_CHECKING, Any

from flexorm.auth.authenticate import INSECURE_CALLER, Authenticator
from flexorm.auth.caller import Caller
from flexorm.auth.header import Credential, parse_authorization, select_credential
from flexorm.auth.policies import (
    MACHINE_KINDS,
    Policy,
    all_of,
    any_of,
    authenticated,
    can_read,
    can_write,
    describe,
    evaluate,
    is_write_allowed,
    owner,
    super_group,
    users,
)
from flexorm.auth.shared_key import SharedKeys

if TYPE_CHECKING:
    from flexorm.auth.jwt import JwtVerifier
    from flexorm.auth.project_token import ProjectTokenVerifier

__all__ = [
    "INSECURE_CALLER",
    "MACHINE_KINDS",
    "Authenticator",
    "Caller",
    "Credential",
    "JwtVerifier",
    "Policy",
    "ProjectTokenVerifier",
    "SharedKeys",
    "all_of",
    "any_of",
    "authenticated",
    "can_read",
    "can_write",
    "describe",
    "evaluate",
    "is_write_allowed",
    "owner",
    "parse_authorization",
    "select_credential",
    "super_group",
    "users",
]


def __getattr__(name: str) -> Any:
    # The verifiers import pyjwt/cryptography and httpx: only when asked for (a server that
    # accepts only shared keys never loads them).
    if name == "JwtVerifier":
        from flexorm.auth.jwt import JwtVerifier

        return JwtVerifier
    if name == "ProjectTokenVerifier":
        from flexorm.auth.project_token import ProjectTokenVerifier

        return ProjectTokenVerifier
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
