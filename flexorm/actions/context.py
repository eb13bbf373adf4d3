"""``ActionContext``: what a body may ask for besides its parameters; ``Policy``: a callable
over it that says whether the caller may run the action (:mod:`flexorm.actions.policies`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from flexorm.actions.run_control import RunControl
from flexorm.auth.caller import Caller
from flexorm.reflection.records import CollectionInfo

__all__ = ["ActionContext", "Policy"]


@dataclass(frozen=True, slots=True)
class ActionContext:
    """The context of one action call.

    A body gets it by annotating any parameter with ``ActionContext``; it is never shown to Jet
    Admin as a parameter.

    Examples:
        >>> async def archive(order, ctx: ActionContext) -> None:  # doctest: +SKIP
        ...     await ctx.session.execute(...)
    """

    session: AsyncSession | Session
    """The transaction's session: an ``AsyncSession`` for async bodies, a ``Session`` for sync
    ones (running in a worker thread). Commit and rollback belong to flexorm."""
    caller: Caller
    """Who asked (user id and claims for a Jet Admin JWT, the key's name for a shared key)."""
    collection: CollectionInfo | None
    """The collection the action ran on; ``None`` for a common action."""
    action: str
    """The action's name."""
    request: Any = None
    """The raw request object of the server (a Litestar ``Request``), when there is one."""
    params: Mapping[str, Any] = field(default_factory=dict)
    """The validated parameter values, by parameter name."""
    dry_run: bool = False
    """This run is a dry run: it runs for real, then everything it wrote is rolled back and
    what it would change is answered. A body that does something outside the database should
    do it through :meth:`after_commit`, which a dry run never calls."""
    commit_hooks: list[Callable[[], Any]] = field(default_factory=list, repr=False,
                                                  compare=False)
    """What :meth:`after_commit` registered, in order."""

    def after_commit(self, callback: Callable[[], Any]) -> None:
        """Call ``callback()`` once the action's transaction has committed: never in a dry run,
        never when the run fails or is rolled back. The way to send mails, call other
        services or start background work from an action: they happen only if what they
        announce was saved.

        ``callback`` takes no arguments and may be sync (run in a worker thread) or async;
        callbacks run in the order they were registered, before the answer is sent. One that
        raises is logged and the others still run: the action has committed, so its answer
        stays a success.

        Examples:
            >>> def refund(order, ctx: ActionContext) -> None:  # doctest: +SKIP
            ...     order.status = "refunded"
            ...     ctx.after_commit(lambda: send_mail(order.email, "Refunded"))
        """
        if not callable(callback):
            raise TypeError(f"after_commit needs a callable, not {callback!r}")
        self.commit_hooks.append(callback)

    run: RunControl | None = None
    """The background run this call belongs to; ``None`` for an action answered directly."""

    @property
    def run_id(self) -> int | None:
        """The journal id of the background run, or ``None``."""
        return self.run.run_id if self.run is not None else None

    @property
    def cancelled(self) -> bool:
        """Whether the background run was cancelled or passed its deadline (the next
        ``progress`` call or database statement raises)."""
        return self.run is not None and self.run.stopped is not None

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """Report how far a background run is: ``done`` of ``total`` (and a short message).

        Cheap enough to call for every row: it is kept in memory and written to the journal
        at most a few times a second. It raises :class:`~flexorm.exceptions.RunStopped` when
        the run was cancelled or passed its deadline, which rolls the run back. Does nothing
        for an action answered directly.

        Examples:
            >>> def mail_all(users, ctx: ActionContext) -> None:  # doctest: +SKIP
            ...     for done, user in enumerate(users, 1):
            ...         send(user)
            ...         ctx.progress(done, len(users))
        """
        if self.run is not None:
            self.run.progress(done, total, message)


Policy = Callable[[ActionContext], bool | Awaitable[bool]]
"""Whether the caller of an action may run it: ``(ctx) -> bool`` (or an awaitable of it); only
``True`` allows."""
