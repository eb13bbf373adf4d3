"""Entity tags for answers that are built once and kept: ``ETag`` and ``If-None-Match``.

Jet Admin asks for the model descriptions on every page load; at a thousand collections the
answer is several megabytes that rarely change. As in the reference bridge, the answer carries a
strong ``ETag`` (a digest of its bytes) with ``Cache-Control: no-cache``, so a client revalidates
it each time and gets ``304 Not Modified`` without a body while the schema is unchanged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["Tagged", "matches"]


@dataclass(frozen=True, slots=True)
class Tagged:
    """An encoded answer and its entity tag."""

    body: bytes
    etag: str
    """The quoted tag: ``"<sha256 of body>"``."""

    @classmethod
    def of(cls, body: bytes) -> Tagged:
        return cls(body, f'"{hashlib.sha256(body).hexdigest()}"')


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weakly compared, as RFC 9110 says
    for this header: a ``W/`` prefix is ignored; ``*`` matches anything).

    Examples:
        >>> matches('"a", W/"b"', '"b"')
        True
        >>> matches(None, '"b"')
        False
    """
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False
