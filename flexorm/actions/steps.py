"""One implementation for sync and async bodies: code written as a generator of steps, run by
either driver.

flexorm runs an async body on the event loop with an ``AsyncSession`` and a sync body in a
worker thread with a blocking ``Session``. What happens around the body (load the rows, check
the policy, call it, flush, encode, write the journal) is the same; only *how* each step runs
differs. So that logic is written once, as a generator that yields steps and gets their results
back, and two small drivers run the steps:

==================  ==========================================  ============================
step                :func:`run_blocking` (worker thread)        :func:`run` (event loop)
==================  ==========================================  ============================
``Blocking(fn)``    ``fn(session, *args)``                      ``await session.run_sync(fn,
                                                                *args)``
``Settle(value)``   ``value``; an awaitable runs on the loop    ``await value`` if awaitable
                    (``anyio.from_thread``)
==================  ==========================================  ============================

An exception a step raises is thrown back into the generator at its ``yield``, so ``try``
blocks in it behave as in plain code.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

import anyio.from_thread
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

__all__ = ["Blocking", "Settle", "Step", "Steps", "run", "run_blocking"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Blocking:
    """Call ``fn(session, *args)`` with the blocking session (the async session's own)."""

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Settle:
    """The value of a call that may be awaitable (an async body or policy)."""

    value: Any


Step: TypeAlias = Blocking | Settle
Steps: TypeAlias = Generator[Step, Any, T]


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def run_blocking(steps: Steps[T], session: Session | None = None) -> T:
    """Run ``steps`` in this (worker) thread, with a blocking session."""
    advance: Callable[[Any], Step] = steps.send
    reply: Any = None
    while True:
        try:
            step = advance(reply)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        try:
            if isinstance(step, Blocking):
                assert session is not None, "a Blocking step needs a session"
                reply = step.fn(session, *step.args)
            elif inspect.isawaitable(step.value):
                reply = anyio.from_thread.run(_await, step.value)
            else:
                reply = step.value
            advance = steps.send
        except Exception as error:  # thrown back in at the yield
            reply, advance = error, steps.throw


async def run(steps: Steps[T], session: AsyncSession | None = None) -> T:
    """Run ``steps`` on the event loop, with an ``AsyncSession``."""
    advance: Callable[[Any], Step] = steps.send
    reply: Any = None
    while True:
        try:
            step = advance(reply)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        try:
            if isinstance(step, Blocking):
                assert session is not None, "a Blocking step needs a session"
                reply = await session.run_sync(step.fn, *step.args)
            elif inspect.isawaitable(step.value):
                reply = await step.value
            else:
                reply = step.value
            advance = steps.send
        except Exception as error:  # thrown back in at the yield
            reply, advance = error, steps.throw
