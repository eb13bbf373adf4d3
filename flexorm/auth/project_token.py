"""``Authorization: Token <t>`` / ``ProjectToken <t>``: verified by Jet Admin's API.

flexorm cannot check these itself: it posts them to ``{auth_url}/project_auth/`` with the
project's own token, as the reference bridge does, and Jet Admin answers 2xx (without
``access_disabled``) for a token that may use the project. Answers are cached briefly, keyed by a
keyed hash of the token, so that a page of Jet Admin requests costs one call.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from flexorm.auth.caller import Caller
from flexorm.exceptions import ConfigurationError, NotAuthenticated

__all__ = ["ProjectTokenVerifier"]

logger = logging.getLogger(__name__)

_UNREACHABLE = "the Jet Admin auth server did not answer"
_FAILED = "the Jet Admin auth server failed"


@dataclass(frozen=True, slots=True)
class _Answer:
    claims: Mapping[str, Any] | None
    """Jet Admin's answer when the token is accepted; ``None`` when it is refused."""
    reason: str
    """Why it was refused, for :class:`NotAuthenticated`."""
    expires: float
    """``time.monotonic()`` after which it is asked again."""


class ProjectTokenVerifier:
    """Checks ``Token``/``ProjectToken`` credentials with Jet Admin's ``project_auth``.

    Args:
        auth_url: Jet Admin's API base URL (``https://api.jetadmin.io/api``).
        project: the project name, put on the :class:`Caller`.
        project_token: the project's token, sent along so Jet Admin knows the project.
        cache_seconds: how long an answer, yes or no, is reused for the same token.
        timeout: seconds to wait for Jet Admin before refusing.
        failure_cache_seconds: how long an unreachable or failing auth server is remembered
            (at most ``cache_seconds``): meanwhile a token it has no answer for is refused at
            once, so an outage costs one wait, not one per request or per token; the first
            check after that asks again.
        max_entries: cached answers kept at most; the oldest go first.
        transport: an httpx transport, for tests.

    Examples:
        >>> verifier = ProjectTokenVerifier(
        ...     "https://api.jetadmin.io/api", "shop", "0a1b...", cache_seconds=60, timeout=5
        ... )  # doctest: +SKIP
        >>> caller = await verifier.verify(token, "Token")  # doctest: +SKIP
    """

    def __init__(
        self,
        auth_url: str,
        project: str | None,
        project_token: str,
        *,
        cache_seconds: float = 60.0,
        timeout: float = 5.0,
        failure_cache_seconds: float = 5.0,
        max_entries: int = 10_000,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not project_token:
            raise ConfigurationError(
                "Token credentials need the project token: set FLEXORM_PROJECT_TOKEN"
            )
        if not auth_url.startswith(("https://", "http://")):
            raise ConfigurationError(f"the auth URL must be an http(s) URL, not {auth_url!r}")
        self._url = auth_url.rstrip("/") + "/project_auth/"
        self._project = project
        self._project_token = project_token
        self._cache_seconds = max(cache_seconds, 0.0)
        self._failure_seconds = min(max(failure_cache_seconds, 0.0), self._cache_seconds)
        self._timeout = timeout
        self._max_entries = max_entries
        self._transport = transport
        self._salt = os.urandom(16)
        self._cache: OrderedDict[bytes, _Answer] = OrderedDict()
        self._pending: dict[bytes, asyncio.Task[_Answer]] = {}
        self._client: httpx.AsyncClient | None = None
        self._outage: _Answer | None = None
        """The refusal of the auth server's last failure, while it is remembered."""

    def __repr__(self) -> str:
        return f"ProjectTokenVerifier({self._url!r}, project={self._project!r})"

    @property
    def url(self) -> str:
        """Where tokens are posted."""
        return self._url

    async def verify(
        self,
        token: str,
        kind: Literal["Token", "ProjectToken"],
        *,
        params: Mapping[str, str] | None = None,
    ) -> Caller:
        """The caller a ``Token``/``ProjectToken`` credential identifies, as Jet Admin says.

        Both kinds are posted the same way (form ``project_token``, ``token``). Concurrent
        checks of one uncached token share one call.

        Args:
            token: the credential's value.
            kind: the credential's type, kept on the caller's claims.
            params: extra form fields (Jet Admin's ``permission_type``/``permission_object``/
                ``permission_actions`` to ask about one permission, or the credential's
                ``project_child`` parameter); they are part of the cache key.

        Raises:
            NotAuthenticated: Jet Admin refused the token, or did not answer in time.
        """
        fields = dict(params or {})
        key = self._key(token, fields)
        answer = self._cached(key) or self._during_outage()
        if answer is None:
            task = self._pending.get(key)
            if task is None:
                task = asyncio.create_task(self._ask(token, fields))
                self._pending[key] = task
                task.add_done_callback(lambda done: self._settle(key, done))
            # Shielded: a caller that gives up does not cancel the check others wait for.
            answer = await asyncio.shield(task)
        if answer.claims is None:
            raise NotAuthenticated(answer.reason)
        return Caller(kind="token", project=self._project, claims={**answer.claims, "kind": kind})

    async def aclose(self) -> None:
        """Close the HTTP client; the verifier opens a new one if used again."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def clear(self) -> None:
        """Forget every cached answer."""
        self._cache.clear()

    def _key(self, token: str, fields: Mapping[str, str]) -> bytes:
        digest = hashlib.blake2b(key=self._salt, digest_size=32)
        digest.update(token.encode("utf-8", "surrogatepass"))
        for name in sorted(fields):
            digest.update(f"\0{name}={fields[name]}".encode("utf-8", "surrogatepass"))
        return digest.digest()

    def _cached(self, key: bytes) -> _Answer | None:
        answer = self._cache.get(key)
        if answer is None:
            return None
        if answer.expires <= time.monotonic():
            del self._cache[key]
            return None
        return answer

    def _during_outage(self) -> _Answer | None:
        """The refusal every uncached token gets while a failure of the auth server is
        remembered."""
        outage = self._outage
        if outage is not None and outage.expires <= time.monotonic():
            self._outage = outage = None
        return outage

    def _settle(self, key: bytes, task: asyncio.Task[_Answer]) -> None:
        self._pending.pop(key, None)
        if task.cancelled() or task.exception() is not None:
            return
        answer = task.result()
        # any other answer, yes or no, says the server is up again
        self._outage = answer if answer.reason in (_UNREACHABLE, _FAILED) else None
        if answer.expires <= time.monotonic():
            return
        self._cache[key] = answer
        self._cache.move_to_end(key)
        while len(self._cache) > self._max_entries:
            self._cache.popitem(last=False)

    def _get_client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self._timeout),
                transport=self._transport,
                headers={"User-Agent": "flexorm"},
                follow_redirects=False,
            )
        return self._client

    async def _ask(self, token: str, fields: Mapping[str, str]) -> _Answer:
        form = {**fields, "project_token": self._project_token, "token": token}
        try:
            # The whole exchange is bounded, not only each read: a server that trickles
            # bytes must not hold the request.
            async with asyncio.timeout(self._timeout):
                response = await self._get_client().post(self._url, data=form)
                await response.aread()
        except Exception as error:  # timeouts, refused connections, bad TLS, odd URLs...
            logger.warning("project_auth at %s did not answer: %s", self._url, type(error).__name__)
            return self._refusal(_UNREACHABLE, self._failure_seconds)
        if response.status_code >= 500:
            logger.warning("project_auth at %s failed: HTTP %d", self._url, response.status_code)
            return self._refusal(_FAILED, self._failure_seconds)
        if not response.is_success:
            return self._refusal("Jet Admin refused the token", self._cache_seconds)
        body = _json_object(response)
        if body is None:
            logger.warning("project_auth at %s answered something other than JSON", self._url)
            return self._refusal(_FAILED, self._failure_seconds)
        if body.get("access_disabled"):
            return self._refusal(
                "access to this Jet Admin project is disabled", self._cache_seconds
            )
        return _Answer(body, "", time.monotonic() + self._cache_seconds)

    @staticmethod
    def _refusal(reason: str, seconds: float) -> _Answer:
        return _Answer(None, reason, time.monotonic() + seconds)


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
