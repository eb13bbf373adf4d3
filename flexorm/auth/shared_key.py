"""Shared keys: ``Authorization: Bearer <key>``, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

from flexorm.auth.caller import Caller

__all__ = ["AcceptedHeaders", "SharedKeys"]


class SharedKeys:
    """The configured shared keys, ready to check presented values against.

    A key's identity in logs and on the :class:`Caller` is its position (``key-1``...), never
    the key itself.

    Examples:
        >>> keys = SharedKeys(["s3cret", "other"])
        >>> keys.check("other").key_name
        'key-2'
        >>> keys.check("guess") is None
        True
    """

    __slots__ = ("_keys",)

    def __init__(self, keys: Sequence[str]) -> None:
        self._keys = tuple(key.encode("utf-8") for key in keys if key)

    def __bool__(self) -> bool:
        return bool(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"SharedKeys(<{len(self._keys)} keys>)"

    def check(self, presented: str) -> Caller | None:
        """The caller a presented key identifies, or ``None`` when it matches no key.

        Every configured key is compared, matching or not, so the time taken tells nothing
        about which key is closest.
        """
        value = presented.encode("utf-8")
        matched = 0
        for number, key in enumerate(self._keys, start=1):
            if hmac.compare_digest(value, key) and not matched:
                matched = number
        return Caller(kind="key", key_name=f"key-{matched}") if matched else None


class AcceptedHeaders:
    """``Authorization`` headers already accepted as a shared key, and the caller each proved.

    A shared key's verdict cannot change while the server runs (the keys are fixed at start), so
    a client sending the same header again need not have it parsed and compared again. Entries
    are keyed by a digest of the header under a random per-process key, never by the header
    itself: the cache holds no secret, and which entries exist tells nothing about the keys.
    Only accepted headers are kept (a refused one is checked again each time), at most
    ``size`` of them, the oldest dropped first.

    Examples:
        >>> accepted = AcceptedHeaders(size=2)
        >>> accepted.remember("Bearer s3cret", Caller(kind="key", key_name="key-1"))
        >>> accepted.get("Bearer s3cret").key_name
        'key-1'
        >>> accepted.get("Bearer other") is None
        True
    """

    __slots__ = ("_callers", "_salt", "_size")

    def __init__(self, size: int = 256) -> None:
        self._callers: dict[bytes, Caller] = {}
        self._salt = secrets.token_bytes(32)
        self._size = size

    def __len__(self) -> int:
        return len(self._callers)

    def __repr__(self) -> str:
        return f"AcceptedHeaders(<{len(self._callers)} headers>)"

    def _digest(self, header: str) -> bytes:
        return hashlib.blake2b(header.encode("utf-8", "surrogatepass"), key=self._salt,
                               digest_size=16).digest()

    def get(self, header: str) -> Caller | None:
        """The caller ``header`` proved before, or ``None`` when it was not accepted yet."""
        return self._callers.get(self._digest(header))

    def remember(self, header: str, caller: Caller) -> None:
        """Keep the caller an accepted header proves."""
        if len(self._callers) >= self._size:
            del self._callers[next(iter(self._callers))]
        self._callers[self._digest(header)] = caller
