"""Who is calling: credentials from the ``Authorization`` header, checked."""

from flexorm.auth.authenticate import INSECURE_CALLER, Authenticator
from flexorm.auth.caller import Caller
from flexorm.auth.header import Credential, parse_authorization, select_credential
from flexorm.auth.shared_key import SharedKeys

__all__ = [
    "INSECURE_CALLER",
    "Authenticator",
    "Caller",
    "Credential",
    "SharedKeys",
    "parse_authorization",
    "select_credential",
]
