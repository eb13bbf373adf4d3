"""Running a bound action in one transaction: load the records and related rows, call the
body, flush, encode the result, commit. Any exception rolls everything back.

Sync bodies run in a worker thread with a blocking ``Session``; async bodies on the event loop
with an ``AsyncSession``, whose loading goes through ``run_sync`` over the same loaders.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import anyio.to_thread
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from flexorm._gc import gc_paused
from flexorm.actions._rows import Cursor, RowClasses, load_by_ids, load_inverse_chunk
from flexorm.actions.binding import BoundAction
from flexorm.actions.context import ActionContext
from flexorm.actions.policies import PolicyChecker, denied
from flexorm.auth.caller import Caller
from flexorm.database import Database
from flexorm.exceptions import ValidationError
from flexorm.protocol.encoding import encode

__all__ = ["Invocation", "OnSuccess", "Runner"]

_SHOWN_MISSING = 20


class OnSuccess(Protocol):
    """What to write in the action's own transaction once the body succeeded, before the
    commit (the journal row and the idempotency key's answer): it commits with the action's
    writes, or is rolled back with them."""

    async def write(self, session: AsyncSession, result: Any) -> None:
        """On an async body's session, on the event loop."""

    def write_sync(self, session: Session, result: Any) -> None:
        """On a sync body's session, in its worker thread."""


@dataclass(frozen=True, slots=True)
class Invocation:
    """One validated ``execute_action``."""

    bound: BoundAction
    values: Mapping[str, Any]
    """Validated parameter values (foreign keys still as ids)."""
    ids: tuple[Any, ...] | None
    """Coerced record ids without duplicates, in request order; ``None``: no records."""
    inverse: bool
    one_result: bool
    """Answer the single call's result rather than a list of results."""
    caller: Caller
    raw_request: Any
    on_success: OnSuccess | None = None
    """Written in the action's transaction after the body returned (the journal)."""


def _missing_message(collection: str, ids: list[Any]) -> str:
    shown = ", ".join(str(i) for i in ids[:_SHOWN_MISSING])
    more = f" and {len(ids) - _SHOWN_MISSING} more" if len(ids) > _SHOWN_MISSING else ""
    return f"no {collection} record with id {shown}{more}"


def _result(value: Any) -> Any:
    return True if value is None else value


class Runner:
    """Runs invocations against one database."""

    def __init__(self, database: Database, rows: RowClasses, chunk_size: int, *,
                 policies: PolicyChecker | None = None) -> None:
        self._database = database
        self._rows = rows
        self._chunk = chunk_size
        self._policies = policies if policies is not None else PolicyChecker()

    async def run(self, invocation: Invocation) -> Any:
        """The encoded result of the action."""
        if invocation.bound.declaration.is_async:
            async with self._database.sessions() as session, session.begin():
                result = await self._run_async(session, invocation)
                if invocation.on_success is not None:
                    await invocation.on_success.write(session, result)
                return result
        return await anyio.to_thread.run_sync(self._run_blocking, invocation)

    # -- shared, on a blocking session --------------------------------------------------------

    def _prepare(self, session: Session, invocation: Invocation) -> tuple[list[Any] | None,
                                                                           dict[str, Any]]:
        """The selected records (``None`` for none or an inverse selection) and the parameter
        values with related rows loaded; every missing id reported at once."""
        errors: dict[str, list[str]] = {}
        records: list[Any] | None = None
        bound = invocation.bound
        if invocation.ids is not None and not invocation.inverse:
            assert bound.collection is not None
            records, missing = load_by_ids(session, self._rows.get(bound.collection),
                                           invocation.ids, self._chunk)
            if missing:
                errors["ids"] = [_missing_message(bound.collection.name, missing)]
        values = dict(invocation.values)
        for spec in bound.params:
            value = values.get(spec.name)
            if not spec.load_row or value is None or spec.related is None:
                continue
            rows, missing = load_by_ids(session, self._rows.get(spec.related), [value], 1)
            if missing:
                errors[spec.name] = [_missing_message(spec.related.name, missing)]
            else:
                values[spec.name] = rows[0]
        if errors:
            raise ValidationError(errors)
        return records, values

    def _context(self, session: AsyncSession | Session, invocation: Invocation,
                 values: Mapping[str, Any]) -> ActionContext:
        bound = invocation.bound
        return ActionContext(session=session, caller=invocation.caller,
                             collection=bound.collection, action=bound.name,
                             request=invocation.raw_request, params=dict(values))

    @staticmethod
    def _kwargs(bound: BoundAction, values: Mapping[str, Any],
                ctx: ActionContext) -> dict[str, Any]:
        kwargs = dict(values)
        kwargs.update(dict.fromkeys(bound.signature.context, ctx))
        return kwargs

    def _inverse_chunk(self, session: Session, invocation: Invocation,
                       after: Cursor) -> tuple[list[Any], Cursor]:
        assert invocation.bound.collection is not None
        return load_inverse_chunk(session, self._rows.get(invocation.bound.collection),
                                  frozenset(invocation.ids or ()), after, self._chunk)

    def _all_inverse(self, session: Session, invocation: Invocation) -> list[Any]:
        rows: list[Any] = []
        chunk, after = self._inverse_chunk(session, invocation, ())
        rows.extend(chunk)
        while after is not None:
            chunk, after = self._inverse_chunk(session, invocation, after)
            rows.extend(chunk)
        return rows

    def _collector_paused(self, invocation: Invocation) -> AbstractContextManager[None]:
        """No cyclic garbage collection while a bulk action over more than a chunk of rows
        loads or flushes them.

        Every loaded row stays alive until the transaction ends, so each of the collector's
        passes while thousands of rows are loaded or flushed walks all of them again (two full
        passes for 10,000 rows, about a third of flexorm's time), and none of them is garbage
        yet. The action's own body runs with the collector on, however long it takes.
        """
        declaration = invocation.bound.declaration
        many = invocation.inverse or len(invocation.ids or ()) > self._chunk
        if declaration.for_instance and declaration.bulk and many:
            return gc_paused()
        return contextlib.nullcontext()

    # -- sync bodies, in a worker thread ------------------------------------------------------

    def _run_blocking(self, invocation: Invocation) -> Any:
        with self._database.sync_sessions() as session, session.begin():
            with self._collector_paused(invocation):
                records, values = self._prepare(session, invocation)
            ctx = self._context(session, invocation, values)
            if not self._policies.check_blocking(invocation.bound, ctx):
                raise denied(invocation.bound)
            body: Callable[..., Any] = invocation.bound.declaration.func
            kwargs = self._kwargs(invocation.bound, values, ctx)
            declaration = invocation.bound.declaration
            if not declaration.for_instance:
                result = encode(_result(body(**kwargs)))
            elif declaration.bulk:
                if records is None:
                    with self._collector_paused(invocation):
                        records = self._all_inverse(session, invocation)
                result = encode(_result(body(records, **kwargs)))
            elif records is not None:
                result = [encode(_result(body(row, **kwargs))) for row in records]
            else:
                result = []
                after: Cursor = ()
                while after is not None:
                    chunk, after = self._inverse_chunk(session, invocation, after)
                    result.extend(encode(_result(body(row, **kwargs))) for row in chunk)
                    session.flush()
                    for row in chunk:
                        session.expunge(row)
            with self._collector_paused(invocation):
                session.flush()
            shaped = self._shape(invocation, result)
            if invocation.on_success is not None:
                invocation.on_success.write_sync(session, shaped)
            return shaped

    # -- async bodies, on the event loop ------------------------------------------------------

    async def _run_async(self, session: AsyncSession, invocation: Invocation) -> Any:
        with self._collector_paused(invocation):
            records, values = await session.run_sync(self._prepare, invocation)
        ctx = self._context(session, invocation, values)
        if not await self._policies.check(invocation.bound, ctx):
            raise denied(invocation.bound)
        body: Callable[..., Any] = invocation.bound.declaration.func
        kwargs = self._kwargs(invocation.bound, values, ctx)
        declaration = invocation.bound.declaration

        async def call(*record: Any) -> Any:
            value = await body(*record, **kwargs)
            with self._collector_paused(invocation):
                await session.flush()
            # encoded inside the transaction, where lazy attributes can still load
            return await session.run_sync(lambda _s: encode(_result(value)))

        if not declaration.for_instance:
            return await call()
        if declaration.bulk:
            if records is None:
                with self._collector_paused(invocation):
                    records = await session.run_sync(self._all_inverse, invocation)
            return await call(records)
        results: list[Any] = []
        if records is not None:
            for row in records:
                results.append(await call(row))
            return self._shape(invocation, results)
        after: Cursor = ()
        while after is not None:
            chunk, after = await session.run_sync(self._inverse_chunk, invocation, after)
            for row in chunk:
                results.append(await call(row))
            for row in chunk:
                session.expunge(row)
        return self._shape(invocation, results)

    @staticmethod
    def _shape(invocation: Invocation, result: Any) -> Any:
        declaration = invocation.bound.declaration
        if (declaration.for_instance and not declaration.bulk and invocation.one_result
                and isinstance(result, list) and len(result) == 1):
            return result[0]
        return result
