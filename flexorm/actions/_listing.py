"""``get_action_list`` per caller: the actions a caller may run, as ready JSON bytes.

Every descriptor is encoded once at startup; an answer is one of two prepared lists or a join
of prepared pieces, never a new encoding:

- no action has a policy: a caller sees every action, or (``read_only``) the ``writes=False``
  ones. Both lists are prepared, so the answer costs nothing per request. This relies on the
  write floor (:func:`~flexorm.actions.policies.is_write_allowed`) depending on ``read_only``
  alone;
- otherwise the caller's visible actions are worked out per request
  (:func:`~flexorm.actions.policies.verdicts`: O(actions) policy calls).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flexorm.actions.binding import BoundAction
from flexorm.actions.policies import PolicyChecker, verdicts
from flexorm.auth.caller import Caller
from flexorm.database import Database
from flexorm.protocol.encoding import encode_json

__all__ = ["ActionListing"]


def _join(parts: Iterable[bytes]) -> bytes:
    return b"[" + b",".join(parts) + b"]"


class ActionListing:
    """The action list of one runtime, filtered per caller."""

    def __init__(self, actions: Sequence[BoundAction], *, database: Database,
                 policies: PolicyChecker) -> None:
        self._actions = tuple(actions)
        self._database = database
        self._policies = policies
        self._parts = tuple(encode_json(bound.descriptor) for bound in self._actions)
        self.full = _join(self._parts)
        """Every action: what a caller the policies and the write floor all allow sees."""
        self._read_only = _join(part for part, bound in zip(self._parts, self._actions,
                                                            strict=True)
                                if not bound.declaration.writes)
        self._has_policies = any(b.declaration.allow is not None for b in self._actions)

    async def answer(self, caller: Caller) -> bytes:
        """The ``get_action_list`` answer for ``caller``, as JSON bytes."""
        if not self._has_policies:
            return self._read_only if caller.read_only else self.full
        visible = await self.visible(caller)
        if all(visible):
            return self.full
        return _join(part for part, shown in zip(self._parts, visible, strict=True) if shown)

    async def visible(self, caller: Caller) -> list[bool]:
        """For each action, in order, whether ``caller`` may run it (as far as can be told
        without records or parameters)."""
        return await verdicts(self._actions, caller, database=self._database,
                              policies=self._policies)

    async def allows(self, bound: BoundAction, caller: Caller) -> bool:
        """Whether ``caller`` may run one action (the write floor and its policy)."""
        return (await verdicts((bound,), caller, database=self._database,
                               policies=self._policies))[0]
