"""Who is calling: credentials from the ``Authorization`` header, checked, as a ``Caller``.

What a caller may run is decided next to the actions (:mod:`flexorm.actions.policies`).
"""

from typing import TYPE_CHECKING, Any

from flexorm.auth.authenticate import INSECURE_CALLER, Authenticator
from flexorm.auth.caller import Caller
from flexorm.auth.header import Credential, parse_authorization, select_credential
from flexorm.auth.shared_key import SharedKeys

if TYPE_CHECKING:
    from flexorm.auth.jwt import JwtVerifier
    from flexorm.auth.project_token import ProjectTokenVerifier

__all__ = [
    "INSECURE_CALLER",
    "Authenticator",
    "Caller",
    "Credential",
    "JwtVerifier",
    "ProjectTokenVerifier",
    "SharedKeys",
    "parse_authorization",
    "select_credential",
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
