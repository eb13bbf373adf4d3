"""From an ``Authorization`` header to a :class:`Caller`, or :class:`NotAuthenticated`.

Which credential counts is the protocol's rule (:func:`select_credential`: a ``JWT`` wins, else
the first one); each type is then checked by its own verifier, and only when it is configured:

======================  =========================================  ==========================
credential              checked by                                 needs
======================  =========================================  ==========================
``Bearer <key>``        :class:`SharedKeys` (constant time)        ``tokens``
``JWT <token>``         :class:`JwtVerifier` (RS256)               ``jwt_public_key``, ``project``
``Token``/``ProjectToken``  :class:`ProjectTokenVerifier` (Jet Admin)  ``project_token``
======================  =========================================  ==========================
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from flexorm.auth.caller import Caller
from flexorm.auth.header import Credential, parse_authorization, select_credential
from flexorm.auth.shared_key import AcceptedHeaders, SharedKeys
from flexorm.exceptions import ConfigurationError, NotAuthenticated
from flexorm.settings import Settings

if TYPE_CHECKING:  # imported when configured: pyjwt/cryptography and httpx cost startup time
    import httpx

    from flexorm.auth.jwt import JwtVerifier
    from flexorm.auth.project_token import ProjectTokenVerifier

__all__ = ["INSECURE_CALLER", "Authenticator"]

logger = logging.getLogger("flexorm.auth")

_KNOWN_TYPES = frozenset({"Bearer", "JWT", "Token", "ProjectToken", "Basic", "Digest"})
_TOKEN_TYPES = ("Token", "ProjectToken")

INSECURE_CALLER = Caller(kind="insecure")
"""The caller of every request when authorization is switched off."""


class Authenticator:
    """Checks credentials against the configured ones.

    Args:
        tokens: the shared keys accepted as ``Bearer <key>``.
        jwt: the verifier of ``JWT <token>`` credentials; ``None`` refuses them.
        project_tokens: the verifier of ``Token``/``ProjectToken`` credentials; ``None``
            refuses them.
        insecure: accept every request, credentials or not.

    Raises:
        ConfigurationError: with no way in at all and not ``insecure``: a server that accepts
            nobody is a mistake, and one that silently accepts everybody is worse.

    Examples:
        >>> auth = Authenticator(["s3cret"])
        >>> auth.accepted
        ('Bearer <key>',)
    """

    __slots__ = ("_accepted", "_insecure", "_jwt", "_keys", "_project_tokens")

    def __init__(
        self,
        tokens: Sequence[str] = (),
        *,
        jwt: JwtVerifier | None = None,
        project_tokens: ProjectTokenVerifier | None = None,
        insecure: bool = False,
    ) -> None:
        self._keys = SharedKeys(tokens)
        self._accepted = AcceptedHeaders()
        self._jwt = jwt
        self._project_tokens = project_tokens
        self._insecure = insecure
        if not self.accepted and not insecure:
            raise ConfigurationError(
                "no token configured: pass --token KEY (or set FLEXORM_TOKEN) for shared keys, "
                "set FLEXORM_JWT_PUBLIC_KEY and FLEXORM_PROJECT for Jet Admin users or "
                "FLEXORM_PROJECT_TOKEN for Jet Admin tokens; or pass --insecure "
                "(FLEXORM_INSECURE=1) to serve without authorization during local development"
            )

    @classmethod
    def from_settings(
        cls, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> Authenticator:
        """The authenticator the settings describe; the JWT public key is parsed here, once.

        Building one opens no connection: the ``project_auth`` client is created on first use
        and closed by :meth:`aclose`.

        Raises:
            ConfigurationError: an unreadable public key, a public key without a project, a
                bad auth URL, or nothing configured.
        """
        jwt = None
        if settings.jwt_public_key:
            from flexorm.auth.jwt import JwtVerifier

            jwt = JwtVerifier(settings.jwt_public_key, settings.project or "",
                              project_token=settings.project_token)
        project_tokens = None
        if settings.project_token:
            from flexorm.auth.project_token import ProjectTokenVerifier

            project_tokens = ProjectTokenVerifier(
                settings.auth_url, settings.project, settings.project_token,
                cache_seconds=settings.auth_cache_seconds, timeout=settings.auth_timeout,
                transport=transport,
            )
        return cls(settings.tokens, jwt=jwt, project_tokens=project_tokens,
                   insecure=settings.insecure)

    def __repr__(self) -> str:
        return f"Authenticator(accepted={self.accepted!r}, insecure={self._insecure})"

    @property
    def insecure(self) -> bool:
        return self._insecure

    @property
    def accepted(self) -> tuple[str, ...]:
        """The credential forms this authenticator checks, for messages and the startup log."""
        forms: list[str] = []
        if self._keys:
            forms.append("Bearer <key>")
        if self._jwt is not None:
            forms.append("JWT <token>")
        if self._project_tokens is not None:
            forms.append("Token <token>")
        return tuple(forms)

    async def authenticate(self, header: str | None) -> Caller:
        """The caller an ``Authorization`` header identifies.

        Raises:
            NotAuthenticated: no credential, or one that is not accepted. The message names
                the credential's type at most, never its value.
        """
        if self._insecure:
            return INSECURE_CALLER
        if header and self._keys:
            known = self._accepted.get(header)
            if known is not None:
                return known
        credential = select_credential(parse_authorization(header))
        if credential is None:
            raise NotAuthenticated(f"authentication required: send {self._hint()}")
        try:
            caller = await self._check(credential)
        except NotAuthenticated:
            raise
        except Exception as error:  # a verifier's bug must not become a 500, nor leak the value
            logger.error("checking a %s credential failed unexpectedly: %s",
                         _shown_type(credential), type(error).__name__)
            raise NotAuthenticated("the credential could not be checked") from None
        if caller is None:
            raise NotAuthenticated(
                f"{_shown_type(credential)} authorization type is not accepted: "
                f"send {self._hint()}"
            )
        if header and caller.kind == "key":  # a shared key's verdict holds while running
            self._accepted.remember(header, caller)
        return caller

    async def _check(self, credential: Credential) -> Caller | None:
        """The caller, or ``None`` when this type of credential is not configured."""
        kind = credential.type
        if kind == "Bearer" and self._keys:
            caller = self._keys.check(credential.value)
            if caller is None:
                raise NotAuthenticated("invalid key")
            return caller
        if kind == "JWT" and self._jwt is not None:
            return self._jwt.verify(credential.value)
        if kind in _TOKEN_TYPES and self._project_tokens is not None:
            # Jet Admin's project_auth takes the credential's project_child parameter along.
            child = credential.params.get("project_child")
            params = {"project_child": child} if child else None
            token_kind: Literal["Token", "ProjectToken"] = (
                "Token" if kind == "Token" else "ProjectToken"
            )
            return await self._project_tokens.verify(credential.value, token_kind, params=params)
        return None

    def _hint(self) -> str:
        return "Authorization: " + " or ".join(self.accepted)

    async def aclose(self) -> None:
        """Close the ``project_auth`` HTTP client, if one was opened."""
        if self._project_tokens is not None:
            await self._project_tokens.aclose()


def _shown_type(credential: Credential) -> str:
    # Name the type only when it is a known one: a client that put its secret first must not
    # see it echoed.
    return credential.type if credential.type in _KNOWN_TYPES else "this"
