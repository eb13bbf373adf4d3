"""Shared keys: ``Authorization: Bearer <key>``, compared in constant time."""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from flexorm.auth.caller import Caller

__all__ = ["SharedKeys"]


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
