"""The caller of a request, as its credentials say."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Caller"]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a request, and what their credentials allow.

    A shared key (``Bearer``) identifies a machine, not a user: ``user_id`` is ``None`` and
    ``key_name`` tells which configured key matched (``"key-1"``...), never the key itself.
    """

    kind: Literal["key", "jwt", "token", "insecure", "cli"]
    user_id: str | None = None
    project: str | None = None
    key_name: str | None = None
    read_only: bool = False
    owner: bool = False
    super_group: bool = False
    permissions: tuple[Mapping[str, Any], ...] = ()
    claims: Mapping[str, Any] = field(default_factory=dict)
