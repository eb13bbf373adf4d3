"""Names of actions outside Jet Admin: MCP tool names and HTTP operation paths.

An action's identity is ``(collection, name)``: a collection action and a common action may
share a name. A tool name is made of that identity alone, so it is the same after a restart:

- a common action is its name: ``refresh_users_status``;
- a collection action is ``<collection>__<name>``: ``users__refresh_users_status``.

Tool names keep to ``[A-Za-z0-9_-]`` and at most 64 characters, which every MCP client
accepts (the specification allows more; several clients drop tools that use it). Any other
character becomes ``_``; a name that is too long, or that two identities (or one of flexorm's
own tools) would share after that, ends in ``-`` and 8 hex digits of a digest of its identity.

Examples:
    >>> tool_names([("users", "refresh"), (None, "refresh"), ("sales.orders", "ship")])
    {('users', 'refresh'): 'users__refresh', (None, 'refresh'): 'refresh', ('sales.orders', 'ship'): 'sales_orders__ship'}
    >>> operation_path("sales.orders", "ship")
    '/api/actions/sales.orders/ship'
"""  # noqa: E501

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable
from urllib.parse import quote

__all__ = ["ACTIONS_PATH", "MAX_TOOL_NAME", "Identity", "operation_path", "tool_names"]

Identity = tuple[str | None, str]
"""``(collection, action)``; the collection is ``None`` for a common action."""

MAX_TOOL_NAME = 64
ACTIONS_PATH = "/api/actions"
_SEPARATOR = "__"
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_-]")


def _plain(identity: Identity) -> str:
    collection, action = identity
    text = action if collection is None else f"{collection}{_SEPARATOR}{action}"
    return _NOT_ALLOWED.sub("_", text) or "_"


def _digested(identity: Identity, plain: str) -> str:
    collection, action = identity
    digest = hashlib.sha256(f"{collection or ''}\x00{action}".encode()).hexdigest()[:8]
    return f"{plain[:MAX_TOOL_NAME - 9]}-{digest}"


def tool_names(identities: Iterable[Identity], *,
               reserved: Collection[str] = ()) -> dict[Identity, str]:
    """A distinct tool name for each identity (in the order given).

    Args:
        identities: the actions' identities, each once.
        reserved: names taken by flexorm's own tools: an action whose plain name is one of
            them gets the digest form.
    """
    wanted = {identity: _plain(identity) for identity in identities}
    counts: dict[str, int] = {}
    for plain in wanted.values():
        counts[plain] = counts.get(plain, 0) + 1
    names: dict[Identity, str] = {}
    for identity, plain in wanted.items():
        clash = counts[plain] > 1 or plain in reserved or len(plain) > MAX_TOOL_NAME
        names[identity] = _digested(identity, plain) if clash else plain
    return names


def operation_path(collection: str | None, action: str) -> str:
    """The path of an action's HTTP operation: ``/api/actions/<collection>/<action>``, or
    ``/api/actions/<action>`` for a common action (each part percent-encoded)."""
    parts = [action] if collection is None else [collection, action]
    return ACTIONS_PATH + "".join("/" + quote(part, safe="") for part in parts)
