"""``get_action_list`` per caller: the actions a caller may run, as ready JSON bytes.

Every descriptor is encoded once at startup; an answer is one of two prepared lists or a join
of prepared pieces, never a new encoding:

- no action has a policy: a caller sees every action, or (``read_only``) the ``writes=False``
  ones. Both lists are prepared, so the answer costs nothing per request. This relies on the
  write floor (:func:`~flexorm.auth.policies.is_write_allowed`) depending on ``read_only``
  alone;
- otherwise the caller's visible actions are worked out per request: the write floor, then
  each policy with a context without records or parameters (O(actions) calls). flexorm's own
  policies are evaluated on the event loop; other policies run as they would for
  ``execute_action``: those of async bodies on the event loop with an ``AsyncSession``, those
  of sync bodies in one worker thread with a ``Session`` (sessions connect only if used).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import anyio.to_thread
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from flexorm.actions._binding import BoundAction
from flexorm.actions._permissions import PolicyChecker, write_allowed
from flexorm.actions.context import ActionContext
from flexorm.auth.caller import Caller
from flexorm.auth.policies import is_pure
from flexorm.database import Database
from flexorm.exceptions import PermissionDenied

__all__ = ["ActionListing"]


def _encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _join(parts: Iterable[bytes]) -> bytes:
    return b"[" + b",".join(parts) + b"]"


def _list_context(session: AsyncSession | Session, bound: BoundAction,
                 caller: Caller) -> ActionContext:
    """The context a policy sees when the list is filtered: no records, no parameters."""
    return ActionContext(session=session, caller=caller, collection=bound.collection,
                         action=bound.name)


class ActionListing:
    """The action list of one runtime, filtered per caller."""

    def __init__(self, actions: Sequence[BoundAction], *, database: Database,
                 policies: PolicyChecker) -> None:
        self._actions = tuple(actions)
        self._database = database
        self._policies = policies
        self._parts = tuple(_encode(bound.descriptor) for bound in self._actions)
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
        return await self._verdicts(self._actions, caller)

    async def allows(self, bound: BoundAction, caller: Caller) -> bool:
        """Whether ``caller`` may run one action (the write floor and its policy)."""
        return (await self._verdicts((bound,), caller))[0]

    async def _verdicts(self, actions: Sequence[BoundAction], caller: Caller) -> list[bool]:
        verdicts = [write_allowed(bound, caller) for bound in actions]
        on_loop: list[int] = []
        in_thread: list[int] = []
        for index, bound in enumerate(actions):
            allow = bound.declaration.allow
            if allow is None or not verdicts[index]:
                continue
            if is_pure(allow) or bound.declaration.is_async:
                on_loop.append(index)
            else:
                in_thread.append(index)
        if on_loop:
            async with self._database.sessions() as session:
                for index in on_loop:
                    bound = actions[index]
                    verdicts[index] = await self._check(bound, _list_context(session, bound,
                                                                             caller))
        if in_thread:
            chosen = [actions[index] for index in in_thread]
            found = await anyio.to_thread.run_sync(self._check_in_thread, chosen, caller)
            for index, verdict in zip(in_thread, found, strict=True):
                verdicts[index] = verdict
        return verdicts

    async def _check(self, bound: BoundAction, ctx: ActionContext) -> bool:
        try:
            return await self._policies.check(bound, ctx)
        except PermissionDenied:
            return False

    def _check_in_thread(self, actions: list[BoundAction], caller: Caller) -> list[bool]:
        verdicts: list[bool] = []
        with self._database.sync_sessions() as session:
            for bound in actions:
                try:
                    verdicts.append(self._policies.check_blocking(
                        bound, _list_context(session, bound, caller)))
                except PermissionDenied:
                    verdicts.append(False)
        return verdicts
