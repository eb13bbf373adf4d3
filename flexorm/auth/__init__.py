"""Who is calling: credentials from the ``Authorization`` header, checked; who may run what."""

from flexorm.auth.authenticate import INSECURE_CALLER, Authenticator
from flexorm.auth.caller import Caller
from flexorm.auth.header import Credential, parse_authorization, select_credential
from flexorm.auth.jwt import JwtVerifier
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
from flexorm.auth.project_token import ProjectTokenVerifier
from flexorm.auth.shared_key import SharedKeys

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
