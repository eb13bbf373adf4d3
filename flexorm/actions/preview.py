"""Preview tokens: what a dry run showed, handed back with the real run.

A dry run answers a ``preview_token``; ``execute_action`` with that token runs the action and
commits only if the run is the one previewed (same action, collection, selection, parameters
and caller) and changes the same number of rows, table by table. Otherwise nothing is
committed and the answer is a 409 (:class:`~flexorm.exceptions.PreviewMismatch`). A background
action's request is checked when it is queued; the token goes with the queued run, whose
counts are checked when it runs: a run that changes other counts fails with the same message,
and nothing is committed.

The token is a plain, readable record (base64 of JSON), not a secret and not a permission: it
holds a digest of the request and the counts the dry run saw. Anyone may make one; a made-up
token can only refuse a run that the same caller could have sent without one.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flexorm.auth.caller import Caller
from flexorm.exceptions import PreviewMismatch, RequestError
from flexorm.journal.idempotency import fingerprint
from flexorm.protocol.requests import ExecuteRequest

__all__ = ["Preview", "binding", "issue", "read"]

_VERSION = 1
_FIELD = "preview_token"

Counts = Mapping[str, Mapping[str, int]]
"""Per table: ``inserted``, ``updated`` and ``deleted``."""


@dataclass(frozen=True, slots=True)
class Preview:
    """A token, read."""

    binding: str
    counts: dict[str, dict[str, int]]

    def check_request(self, binding: str) -> None:
        """Refuse a request that is not the previewed one (what it changes is checked when it
        runs: for a background action, once its run runs).

        Raises:
            PreviewMismatch: another action, selection, parameters or caller.
        """
        if binding != self.binding:
            raise PreviewMismatch(
                "this preview_token was made for another action, selection, parameters or "
                "caller; nothing was saved")

    def check(self, binding: str, counts: Counts) -> None:
        """Refuse a run that is not the previewed one, or changes other counts.

        Raises:
            PreviewMismatch: with what differs.
        """
        self.check_request(binding)
        actual = _plain(counts)
        if actual != self.counts:
            raise PreviewMismatch(
                f"the data changed since the preview: this run would change {_said(actual)}, "
                f"the preview showed {_said(self.counts)}; nothing was saved")


def binding(request: ExecuteRequest, caller: Caller | None,
            params: Mapping[str, Any] | None = None) -> str:
    """The digest of what a token binds: action, collection, selection, parameters (``params``
    when given, else the request's) and caller."""
    who = (caller.kind, caller.user_id, caller.key_name) if caller is not None else None
    return fingerprint(request.action, request.model, request.ids,
                       request.params if params is None else params,
                       inverse=request.inverse, caller=who)


def issue(bound: str, counts: Counts) -> str:
    """The token of a dry run of the request digested as ``bound`` that changed ``counts``.

    Examples:
        >>> token = issue("ab12", {"orders": {"inserted": 0, "updated": 3, "deleted": 0}})
        >>> read(token).counts
        {'orders': {'deleted': 0, 'inserted': 0, 'updated': 3}}
    """
    payload = {"v": _VERSION, "b": bound, "c": _plain(counts)}
    text = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def read(token: str) -> Preview:
    """The token, checked for shape.

    Raises:
        RequestError: not a token that a dry run answered.
    """
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError):
        raise _bad() from None
    if not isinstance(payload, dict) or payload.get("v") != _VERSION:
        raise _bad()
    bound, counts = payload.get("b"), payload.get("c")
    if not isinstance(bound, str) or not isinstance(counts, dict):
        raise _bad()
    plain: dict[str, dict[str, int]] = {}
    for table, numbers in counts.items():
        if not isinstance(numbers, dict) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in numbers.values()):
            raise _bad()
        plain[str(table)] = {str(k): v for k, v in numbers.items()}
    return Preview(bound, plain)


def _plain(counts: Counts) -> dict[str, dict[str, int]]:
    return {table: dict(sorted(numbers.items())) for table, numbers in sorted(counts.items())
            if any(numbers.values())}


def _said(counts: Counts) -> str:
    if not counts:
        return "no rows"
    parts = []
    for table, numbers in counts.items():
        done = ", ".join(f"{n:,} {kind}" for kind, n in numbers.items() if n)
        parts.append(f"{table} ({done})")
    return "; ".join(parts)


def _bad() -> RequestError:
    return RequestError("not a preview_token that a dry run answered", field=_FIELD)
