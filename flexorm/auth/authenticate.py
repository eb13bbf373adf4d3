"""From an ``Authorization`` header to a :class:`Caller`, or :class:`NotAuthenticated`."""

from __future__ import annotations

from collections.abc import Sequence

from flexorm.auth.caller import Caller
from flexorm.auth.header import parse_authorization, select_credential
from flexorm.auth.shared_key import SharedKeys
from flexorm.exceptions import ConfigurationError, NotAuthenticated
from flexorm.settings import Settings

__all__ = ["INSECURE_CALLER", "Authenticator"]

_KNOWN_TYPES = frozenset({"JWT", "Token", "ProjectToken", "Basic", "Digest"})

INSECURE_CALLER = Caller(kind="insecure")
"""The caller of every request when authorization is switched off."""


class Authenticator:
    """Checks credentials against the configured ones.

    Args:
        tokens: the shared keys accepted as ``Bearer <key>``.
        insecure: accept every request, credentials or not.

    Raises:
        ConfigurationError: with neither a key nor ``insecure``: a server that accepts nobody is
            a mistake, and one that silently accepts everybody is worse.
    """

    __slots__ = ("_insecure", "_keys")

    def __init__(self, tokens: Sequence[str], *, insecure: bool = False) -> None:
        self._keys = SharedKeys(tokens)
        self._insecure = insecure
        if not self._keys and not insecure:
            raise ConfigurationError(
                "no token configured: pass --token KEY (or set FLEXORM_TOKEN) so that Jet Admin "
                "can authenticate, or --insecure (FLEXORM_INSECURE=1) to serve without "
                "authorization during local development"
            )

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator:
        return cls(settings.tokens, insecure=settings.insecure)

    @property
    def insecure(self) -> bool:
        return self._insecure

    def authenticate(self, header: str | None) -> Caller:
        """The caller an ``Authorization`` header identifies.

        Raises:
            NotAuthenticated: no credential, or one that is not accepted. The message names
                the credential's type at most, never its value.
        """
        if self._insecure:
            return INSECURE_CALLER
        credential = select_credential(parse_authorization(header))
        if credential is None:
            raise NotAuthenticated("authentication required: send Authorization: Bearer <key>")
        if credential.type != "Bearer":
            # Name the type only when it is a known one: a client that put its secret first
            # must not see it echoed.
            kind = credential.type if credential.type in _KNOWN_TYPES else "this"
            raise NotAuthenticated(
                f"{kind} authorization type is not accepted: send Authorization: Bearer <key>"
            )
        caller = self._keys.check(credential.value)
        if caller is None:
            raise NotAuthenticated("invalid key")
        return caller
