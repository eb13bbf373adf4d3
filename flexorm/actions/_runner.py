"""Running a bound action in one transaction: load the records and related rows, check the
policy, call the body, flush, encode the result, write the journal row, commit. Any exception
rolls everything back.

Sync bodies run in a worker thread with a blocking ``Session``; async bodies on the event loop
with an ``AsyncSession``. Both run the very same steps (:meth:`Runner._steps`), driven by
:mod:`flexorm.actions.steps`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import anyio.to_thread
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from flexorm.actions._rows import Cursor, RowClasses, load_by_ids, load_inverse_chunk
from flexorm.actions.binding import BoundAction
from flexorm.actions.context import ActionContext
from flexorm.actions.policies import PolicyChecker, denied
from flexorm.actions.run_control import RunControl
from flexorm.actions.steps import Blocking, Settle, Steps, run, run_blocking
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

    def write(self, session: Session, result: Any) -> None:
        """On the action's blocking session (an async session's own, for an async body)."""


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
    control: RunControl | None = None
    """A background run's control: progress, and a stop at its next statement."""
    defer: bool = False
    """Check everything (records, policy), then write ``on_success`` without calling the body:
    the run is queued for later."""


def _missing_message(collection: str, ids: list[Any]) -> str:
    shown = ", ".join(str(i) for i in ids[:_SHOWN_MISSING])
    more = f" and {len(ids) - _SHOWN_MISSING} more" if len(ids) > _SHOWN_MISSING else ""
    return f"no {collection} record with id {shown}{more}"


def _checker(control: RunControl) -> Callable[..., None]:
    def before_cursor_execute(conn: Connection, *_: Any) -> None:
        control.check()

    return before_cursor_execute


def _encoded(_session: Session, value: Any) -> Any:
    """A body's result, JSON-encoded inside the transaction (lazy attributes can still load);
    ``None`` answers ``true``."""
    return encode(True if value is None else value)


def _flush(session: Session) -> None:
    session.flush()


def _flush_and_forget(session: Session, rows: list[Any]) -> None:
    """Write a chunk's changes and let its rows go (an inverse selection, chunk by chunk)."""
    session.flush()
    for row in rows:
        session.expunge(row)


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
                return await run(self._steps(session, invocation), session)
        return await anyio.to_thread.run_sync(self._run_blocking, invocation)

    def _run_blocking(self, invocation: Invocation) -> Any:
        with self._database.sync_sessions() as session, session.begin():
            return run_blocking(self._steps(session, invocation), session)

    def _steps(self, session: AsyncSession | Session, invocation: Invocation) -> Steps[Any]:
        """Everything an action does in its transaction, for either kind of body."""
        bound = invocation.bound
        if invocation.control is not None:
            yield Blocking(self._watch, (invocation.control,))
        records, values = yield Blocking(self._prepare, (invocation,))
        ctx = self._context(session, invocation, values)
        if not (yield from self._policies.steps(bound, ctx)):
            raise denied(bound)
        if invocation.defer:
            if invocation.on_success is not None:
                yield Blocking(invocation.on_success.write, (None,))
            return None
        body: Callable[..., Any] = bound.declaration.func
        kwargs = self._kwargs(bound, values, ctx)

        def call(*record: Any) -> Steps[Any]:
            value = yield Settle(body(*record, **kwargs))
            return (yield Blocking(_encoded, (value,)))

        declaration = bound.declaration
        result: Any
        if not declaration.for_instance:
            result = yield from call()
        elif declaration.bulk:
            if records is None:
                records = yield Blocking(self._all_inverse, (invocation,))
            result = yield from call(records)
        elif records is not None:
            result = []
            for row in records:
                result.append((yield from call(row)))
        else:
            result = []
            after: Cursor = ()
            while after is not None:
                chunk, after = yield Blocking(self._inverse_chunk, (invocation, after))
                for row in chunk:
                    result.append((yield from call(row)))
                yield Blocking(_flush_and_forget, (chunk,))
        yield Blocking(_flush)
        shaped = self._shape(invocation, result)
        if invocation.on_success is not None:
            yield Blocking(invocation.on_success.write, (shaped,))
        return shaped

    # -- shared, on a blocking session --------------------------------------------------------

    def _watch(self, session: Session, control: RunControl) -> None:
        """Stop a background run at its next statement once it is to stop; on PostgreSQL, no
        statement outlives its deadline, and a stop cancels the running one."""
        conn = session.connection()
        event.listen(conn, "before_cursor_execute", _checker(control))
        driver = conn.connection.driver_connection
        if self._database.dialect == "postgresql":
            remaining = control.remaining()
            if remaining is not None:
                conn.exec_driver_sql(
                    f"SET LOCAL statement_timeout = {max(1, int(remaining * 1000))}")
            control.backend_pid = getattr(getattr(driver, "info", None), "backend_pid", None)
        elif self._database.dialect == "sqlite":
            control.interrupt = getattr(driver, "interrupt", None)

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
                             request=invocation.raw_request, params=dict(values),
                             run=invocation.control)

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

    @staticmethod
    def _shape(invocation: Invocation, result: Any) -> Any:
        declaration = invocation.bound.declaration
        if (declaration.for_instance and not declaration.bulk and invocation.one_result
                and isinstance(result, list) and len(result) == 1):
            return result[0]
        return result
