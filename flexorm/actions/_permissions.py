"""Who may run a bound action: the write floor first, then the action's ``allow`` policy.

The same two checks decide ``execute_action`` (refused with :class:`PermissionDenied`, before
the body runs) and what ``get_action_list`` shows a caller (the action is left out).

A policy that raises refuses: permissions fail closed. The first failure of each action is
logged with its traceback; the caller only learns that the action is not theirs to run.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Awaitable
from typing import Any

import anyio.from_thread

from flexorm.actions._binding import BoundAction
from flexorm.actions.context import ActionContext
from flexorm.auth.caller import Caller
from flexorm.auth.policies import is_write_allowed
from flexorm.exceptions import PermissionDenied

__all__ = ["PolicyChecker", "denied", "read_only_refusal", "write_allowed"]

logger = logging.getLogger("flexorm.actions")


def write_allowed(bound: BoundAction, caller: Caller) -> bool:
    """The write floor: an action declared ``writes=True`` needs a caller allowed to write."""
    if not bound.declaration.writes:
        return True
    return is_write_allowed(caller, bound.collection.name if bound.collection else None)


def read_only_refusal(bound: BoundAction) -> PermissionDenied:
    return PermissionDenied(
        f"you may not run the action {bound.name!r}: your Jet Admin access is read-only"
    )


def denied(bound: BoundAction) -> PermissionDenied:
    # the refusal does not reveal what the policy requires
    return PermissionDenied(f"you may not run the action {bound.name!r}")


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


class PolicyChecker:
    """Runs ``allow`` policies; only ``True`` allows, and a policy that raises refuses."""

    def __init__(self) -> None:
        self._logged: set[tuple[str, str | None]] = set()
        self._lock = threading.Lock()  # policies of sync bodies run in worker threads

    async def check(self, bound: BoundAction, ctx: ActionContext) -> bool:
        """The verdict of ``bound``'s policy, on the event loop (``True`` without a policy).

        Raises:
            PermissionDenied: raised by the policy itself, with its own message.
        """
        allow = bound.declaration.allow
        if allow is None:
            return True
        try:
            verdict = allow(ctx)
            if inspect.isawaitable(verdict):
                verdict = await verdict
        except PermissionDenied:
            raise
        except Exception as error:
            self._log(bound, error)
            return False
        return verdict is True

    def check_blocking(self, bound: BoundAction, ctx: ActionContext) -> bool:
        """:meth:`check` from a worker thread (an async policy runs on the event loop)."""
        allow = bound.declaration.allow
        if allow is None:
            return True
        try:
            verdict = allow(ctx)
            if inspect.isawaitable(verdict):
                verdict = anyio.from_thread.run(_await, verdict)
        except PermissionDenied:
            raise
        except Exception as error:
            self._log(bound, error)
            return False
        return verdict is True

    def _log(self, bound: BoundAction, error: Exception) -> None:
        key = (bound.name, bound.collection.name if bound.collection else None)
        with self._lock:
            if key in self._logged:
                return
            self._logged.add(key)
        logger.error("the allow policy of action %r failed, so it refuses everyone (logged "
                     "once)", bound.name, exc_info=error)
