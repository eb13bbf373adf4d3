"""Who may run an action: the policies a developer writes as ``allow=``, and their checks.

A policy is any callable ``(ActionContext) -> bool`` (or an awaitable of one); only ``True``
allows. The ready-made ones below read ``ctx.caller`` and ``ctx.collection`` only, combine with
:func:`all_of` / :func:`any_of`, and describe themselves for refusal messages.

Callers that are not Jet Admin users (a shared key, the CLI, insecure development mode) are
trusted machines: every policy allows them, except :data:`owner` and :func:`users`, which are
about people. A ``Token``/``ProjectToken`` caller was vouched for by Jet Admin but carries no
flags or permissions: it passes :data:`authenticated` only.

Whatever the policy, a ``read_only`` caller never runs an action declared ``writes=True``
(:func:`is_write_allowed`, applied by the action layer).

Jet Admin's per-collection permissions (from the JWT) follow the reference bridge: a project
owner or a member of a super group may do everything; a ``read_only`` user may read every
collection and write none; anybody else needs an entry ``{"permission_type": "model",
"permission_object": "<resource>.<collection>", "permission_actions": "rwd"}`` whose actions
contain ``r`` to read, ``w`` to write.

Examples:
    >>> from flexorm import any_of, can_write, users
    >>> @flex.action(model="orders", allow=any_of(can_write, users("42")))  # doctest: +SKIP
    ... async def refund(order, ctx): ...

Checks (the same decide ``execute_action``, refused with :class:`PermissionDenied` before the
body runs, and what ``get_action_list`` shows a caller, the action left out): the write floor
first (:func:`write_allowed`), then the action's ``allow`` policy (:class:`PolicyChecker`).

A policy that raises refuses: permissions fail closed. The first failure of each action is
logged with its traceback; the caller only learns that the action is not theirs to run.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Literal

import anyio.to_thread

from flexorm.actions.binding import BoundAction
from flexorm.actions.context import ActionContext, Policy
from flexorm.actions.steps import Settle, Steps, run, run_blocking
from flexorm.auth.caller import Caller
from flexorm.database import Database
from flexorm.exceptions import ConfigurationError, PermissionDenied

__all__ = [
    "MACHINE_KINDS",
    "Policy",
    "PolicyChecker",
    "all_of",
    "any_of",
    "authenticated",
    "can_read",
    "can_write",
    "denied",
    "describe",
    "evaluate",
    "has_collection_permission",
    "is_pure",
    "is_write_allowed",
    "may_reload_schema",
    "owner",
    "read_only_refusal",
    "super_group",
    "users",
    "verdicts",
    "write_allowed",
]

MACHINE_KINDS = frozenset({"key", "cli", "insecure"})
"""Caller kinds that are trusted machines rather than Jet Admin users."""


def has_collection_permission(caller: Caller, collection: str, action: Literal["r", "w"]) -> bool:
    """Whether a caller's Jet Admin permissions allow ``action`` (``r``/``w``) on a collection.

    Machines are allowed; ``Token`` callers, who carry no permissions, are not.
    """
    if caller.kind in MACHINE_KINDS:
        return True
    if caller.kind != "jwt":
        return False
    if action == "w" and caller.read_only:
        return False
    if caller.owner or caller.super_group or caller.read_only:
        return True
    for item in caller.permissions:
        if item.get("permission_type") != "model":
            continue
        # "<resource>.<collection>": the collection is everything after the first dot.
        target = str(item.get("permission_object", "")).split(".", 1)[-1]
        if target == collection and action in str(item.get("permission_actions", "")):
            return True
    return False


def is_write_allowed(caller: Caller, collection: str | None) -> bool:
    """Whether a caller may run an action that writes (on ``collection``; ``None``: none).

    The action layer asks this for every action declared ``writes=True`` (the default),
    whatever its policy, before the body runs and when listing actions: a ``read_only`` caller
    is always refused. That is the whole check, on purpose:

    - Collection write permission is a policy (:data:`can_write`), not part of this floor. An
      action is a controlled operation, and giving people an operation without giving them
      the right to edit the table freely is what actions are for ("request a refund" for
      support agents who may only read orders); a floor that demanded ``w`` would leave no
      way to express that except ``writes=False``, which would let ``read_only`` users in too.
    - An action declared on ``orders`` may write elsewhere, or nowhere on ``orders``: the
      declared collection is a guess about what it writes, fine for a policy a developer
      chooses, not for a rule nobody can turn off.
    - Callers without flags (``Token``, machines) are never ``read_only``: Jet Admin vouched
      for a ``Token`` without saying more.

    ``collection`` is accepted so that the floor can grow without changing its callers; the
    action list's fast path relies on the answer depending on ``read_only`` alone
    (:mod:`flexorm.actions._listing`).
    """
    del collection  # the floor does not depend on it (see above)
    return not caller.read_only


class _Policy:
    """A named policy: a predicate over the caller (and the action's collection)."""

    __slots__ = ("_check", "description")

    pure = True
    """Reads only ``ctx.caller`` and ``ctx.collection``, synchronously: the action layer may
    evaluate it anywhere, without a database session (see :func:`is_pure`)."""

    def __init__(self, check: Callable[[Caller, str | None], bool], description: str) -> None:
        self._check = check
        self.description = description
        """What the policy requires, for a refusal message ("write permission on ...")."""

    def __call__(self, ctx: ActionContext) -> bool:
        collection = ctx.collection.name if ctx.collection is not None else None
        return self._check(ctx.caller, collection) is True

    def __repr__(self) -> str:
        return f"<policy: {self.description}>"


def _any(_caller: Caller, _collection: str | None) -> bool:
    return True


def _owner(caller: Caller, _collection: str | None) -> bool:
    return caller.kind == "jwt" and caller.owner


def _super_group(caller: Caller, _collection: str | None) -> bool:
    if caller.kind in MACHINE_KINDS:
        return True
    return caller.kind == "jwt" and (caller.owner or caller.super_group)


def _can(action: Literal["r", "w"]) -> Callable[[Caller, str | None], bool]:
    def check(caller: Caller, collection: str | None) -> bool:
        if collection is not None:
            return has_collection_permission(caller, collection, action)
        # A common action has no collection: any user who may do this at all.
        if action == "w" and caller.read_only:
            return False
        return caller.kind in MACHINE_KINDS or caller.kind == "jwt"

    return check


authenticated = _Policy(_any, "an authenticated caller")
"""Any verified caller (every caller that reaches an action is one)."""

owner = _Policy(_owner, "the project owner")
"""The Jet Admin project's owner. Machines are refused: they are nobody's owner."""

super_group = _Policy(_super_group, "a member of a Jet Admin super group")
"""A Jet Admin user in a group with every permission (or the owner); machines too."""

can_read = _Policy(_can("r"), "read permission on the collection")
"""Jet Admin read permission on the action's collection; for a common action, any JWT user."""

can_write = _Policy(_can("w"), "write permission on the collection")
"""Jet Admin write permission on the action's collection; ``read_only`` callers never have it.
For a common action, any JWT user who is not ``read_only``."""


def users(*ids: str | int) -> Policy:
    """Only the Jet Admin users with these ids (the JWT's ``user`` claim).

    Examples:
        >>> allow = users(42, "57")
    """
    allowed = frozenset(str(user_id) for user_id in ids)
    listed = ", ".join(sorted(allowed)) or "nobody"
    return _Policy(
        lambda caller, _c: caller.kind == "jwt" and caller.user_id in allowed,
        f"one of the users {listed}",
    )


async def evaluate(policy: Policy, ctx: ActionContext) -> bool:
    """Run a policy, sync or async; only ``True`` allows."""
    result: Any = policy(ctx)
    if inspect.isawaitable(result):
        result = await result
    return result is True


def is_pure(policy: Policy) -> bool:
    """Whether a policy is one of flexorm's own (or combines only those): synchronous, and
    reading nothing but the caller and the collection."""
    return getattr(policy, "pure", False) is True


def describe(policy: Policy) -> str:
    """What a policy requires, for messages: its description, or its name."""
    description = getattr(policy, "description", None)
    if isinstance(description, str):
        return description
    return getattr(policy, "__name__", None) or type(policy).__name__


class _Combined:
    """``all_of`` (go on while policies allow) or ``any_of`` (go on while they refuse)."""

    __slots__ = ("_go_on", "_policies", "description", "pure")

    def __init__(self, policies: Iterable[Policy], go_on: bool, joiner: str) -> None:
        self._policies = tuple(policies)
        if not self._policies:
            kind = "all_of" if go_on else "any_of"
            raise ConfigurationError(f"{kind}() needs at least one policy")
        self._go_on = go_on
        self.description = f" {joiner} ".join(describe(p) for p in self._policies)
        self.pure = all(is_pure(p) for p in self._policies)

    def __call__(self, ctx: ActionContext) -> bool | Awaitable[bool]:
        # Stays synchronous until a policy answers with an awaitable.
        for index, policy in enumerate(self._policies):
            result: Any = policy(ctx)
            if inspect.isawaitable(result):
                return self._finish(ctx, result, index)
            if (result is True) is not self._go_on:
                return not self._go_on
        return self._go_on

    async def _finish(self, ctx: ActionContext, pending: Awaitable[Any], index: int) -> bool:
        if ((await pending) is True) is not self._go_on:
            return not self._go_on
        for policy in self._policies[index + 1 :]:
            if await evaluate(policy, ctx) is not self._go_on:
                return not self._go_on
        return self._go_on

    def __repr__(self) -> str:
        return f"<policy: {self.description}>"


def may_reload_schema(caller: Caller) -> bool:
    """Whether ``caller`` may send ``reload_schema``: a machine (a shared key, or every caller of
    an ``insecure`` server) or a project owner. A reload changes what every user sees, so it
    is not for every Jet Admin user."""
    return caller.kind in ("key", "insecure") or caller.owner


def all_of(*policies: Policy) -> Policy:
    """Allows when every policy allows (checked in order, stopping at the first refusal)."""
    return _Combined(policies, go_on=True, joiner="and")


def any_of(*policies: Policy) -> Policy:
    """Allows when one policy allows (checked in order, stopping at the first that does)."""
    return _Combined(policies, go_on=False, joiner="or")


# -- checks --------------------------------------------------------------------------------------

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


class PolicyChecker:
    """Runs ``allow`` policies; only ``True`` allows, and a policy that raises refuses."""

    def __init__(self) -> None:
        self._logged: set[tuple[str, str | None]] = set()
        self._lock = threading.Lock()  # policies of sync bodies run in worker threads

    def steps(self, bound: BoundAction, ctx: ActionContext) -> Steps[bool]:
        """The verdict of ``bound``'s policy (``True`` without a policy), as steps
        (:mod:`flexorm.actions.steps`): an async policy is awaited on the event loop, from a
        worker thread too.

        Raises:
            PermissionDenied: raised by the policy itself, with its own message.
        """
        allow = bound.declaration.allow
        if allow is None:
            return True
        try:
            verdict = yield Settle(allow(ctx))
        except PermissionDenied:
            raise
        except Exception as error:
            self._log(bound, error)
            return False
        return verdict is True

    async def check(self, bound: BoundAction, ctx: ActionContext) -> bool:
        """:meth:`steps`, on the event loop."""
        return await run(self.steps(bound, ctx))

    def check_blocking(self, bound: BoundAction, ctx: ActionContext) -> bool:
        """:meth:`steps`, from a worker thread."""
        return run_blocking(self.steps(bound, ctx))

    def _log(self, bound: BoundAction, error: Exception) -> None:
        key = (bound.name, bound.collection.name if bound.collection else None)
        with self._lock:
            if key in self._logged:
                return
            self._logged.add(key)
        logger.error("the allow policy of action %r failed, so it refuses everyone (logged "
                     "once)", bound.name, exc_info=error)


def _list_context(session: Any, bound: BoundAction, caller: Caller) -> ActionContext:
    """The context a policy sees when the action list is filtered: no records, no
    parameters."""
    return ActionContext(session=session, caller=caller, collection=bound.collection,
                         action=bound.name)


async def verdicts(actions: Sequence[BoundAction], caller: Caller, *, database: Database,
                   policies: PolicyChecker) -> list[bool]:
    """For each action, in order, whether ``caller`` may run it, as far as can be told without
    records or parameters: the write floor, then each policy.

    flexorm's own policies are evaluated on the event loop; other policies run as they would
    for ``execute_action``: those of async bodies on the event loop with an ``AsyncSession``,
    those of sync bodies in one worker thread with a ``Session`` (sessions connect only if
    used). A policy raising :class:`PermissionDenied` refuses.
    """
    found = [write_allowed(bound, caller) for bound in actions]
    on_loop: list[int] = []
    in_thread: list[int] = []
    for index, bound in enumerate(actions):
        allow = bound.declaration.allow
        if allow is None or not found[index]:
            continue
        if is_pure(allow) or bound.declaration.is_async:
            on_loop.append(index)
        else:
            in_thread.append(index)
    if on_loop:
        async with database.sessions() as session:
            for index in on_loop:
                bound = actions[index]
                try:
                    found[index] = await policies.check(bound, _list_context(session, bound,
                                                                             caller))
                except PermissionDenied:
                    found[index] = False
    if in_thread:
        chosen = [actions[index] for index in in_thread]

        def check_in_thread() -> list[bool]:
            answers: list[bool] = []
            with database.sync_sessions() as session:
                for bound in chosen:
                    try:
                        answers.append(policies.check_blocking(
                            bound, _list_context(session, bound, caller)))
                    except PermissionDenied:
                        answers.append(False)
            return answers

        answers = await anyio.to_thread.run_sync(check_in_thread)
        for index, verdict in zip(in_thread, answers, strict=True):
            found[index] = verdict
    return found
