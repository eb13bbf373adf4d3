"""What the journal keeps of a run's result: all of it up to ``journal_result_limit`` bytes of
JSON, else nothing but a note saying why.

A result is kept in its run's row and in its idempotency key's answer, most often in the
action's own transaction. Megabytes in every row bloat the journal, and a row beyond what the
database takes in one statement (MariaDB's ``max_allowed_packet``) fails that transaction:
MariaDB drops the connection, the driver reports an outage, and the action could never succeed.
So the journal measures a result before keeping it; the caller gets the whole answer either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flexorm.protocol.encoding import encode_json

__all__ = ["Kept", "keep", "not_kept_note"]


@dataclass(frozen=True, slots=True)
class Kept:
    """A result as the journal keeps it."""

    result: Any
    """What the journal stores: the result, or ``None`` when it is too large to keep."""
    size: int
    """Bytes of the result's JSON."""
    encoded: bytes
    """The result's JSON, written to measure it: the answer reuses it rather than encoding a
    large result a second time."""
    note: str | None = None
    """Why the result is not kept; ``None`` when it is."""

    @property
    def whole(self) -> bool:
        """The result is kept."""
        return self.note is None


def not_kept_note(size: int, limit: int) -> str:
    """What a run's row says in place of a result of ``size`` bytes.

    Examples:
        >>> not_kept_note(23_456_789, 1_048_576)
        'result of 23,456,789 bytes not kept: larger than journal_result_limit (1,048,576)'
    """
    return f"result of {size:,} bytes not kept: larger than journal_result_limit ({limit:,})"


def keep(result: Any, limit: int) -> Kept:
    """``result`` (JSON types, as an action's answer holds it) as the journal keeps it: whole
    when its JSON is at most ``limit`` bytes, else not at all (0 keeps none).

    Examples:
        >>> keep(["a", "b"], 100).result, keep(["a", "b"], 100).size
        (['a', 'b'], 9)
        >>> keep("x" * 10, 5).note
        'result of 12 bytes not kept: larger than journal_result_limit (5)'
    """
    encoded = encode_json(result)
    size = len(encoded)
    if size <= limit:
        return Kept(result, size, encoded)
    return Kept(None, size, encoded, not_kept_note(size, limit))
