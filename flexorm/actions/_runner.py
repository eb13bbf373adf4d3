"""Running a bound action in one transaction: load the records and related rows, check the
policy, call the body, flush, encode the result, write the journal row, commit. Any exception
rolls everything back.

Sync bodies run in a worker thread with a blocking ``Session``; async bodies on the event loop
with an ``AsyncSession``. Both run the very same steps (:meth:`Runner._steps`), driven by
:mod:`flexorm.actions.steps`.

Around the body, a :class:`~flexorm.actions._dry_run.Watch` collects what it changes when the
run needs it, and settles the run after its last flush, before the journal row: a cap, a
preview token, a dry run's rollback. Work a body hands to ``ctx.after_commit`` runs once the
transaction committed.

An action that may write (the default, ``writes=True``) locks what it acts on for the length of
its transaction: on SQLite the whole database from the transaction's start (``BEGIN
IMMEDIATE``), elsewhere the selected records and the rows its parameters name
(``SELECT ... FOR UPDATE``), one collection after the other by name, each in key order. A
deadlock or serialization failure runs the action again when it was declared with ``retries``,
and otherwise answers 409 (:mod:`flexorm.db_errors`).
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.exc import StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from flexorm.actions._dry_run import DryRunEnded, Safeguards, Watch
from flexorm.actions._inverse import Cursor, load_inverse_chunk
from flexorm.actions._rows import Locking, RowClasses, load_groups, row_locks
from flexorm.actions._stored import flush_unnoted, read_back_stale, track_flushed
from flexorm.actions._transaction import watch
from flexorm.actions.binding import BoundAction
from flexorm.actions.changes import Changes
from flexorm.actions.context import ActionContext
from flexorm.actions.policies import PolicyChecker, denied
from flexorm.actions.run_control import RunControl
from flexorm.actions.steps import Blocking, Settle, Steps, run, run_blocking
from flexorm.auth.caller import Caller
from flexorm.database import WRITE, Database
from flexorm.db_errors import RETRYABLE, classify, translate
from flexorm.exceptions import ValidationError
from flexorm.protocol.encoding import encode
from flexorm.reflection.records import CollectionInfo

__all__ = ["Invocation", "OnSuccess", "Outcome", "Runner"]

logger = logging.getLogger("flexorm.actions")

Hooks = list[Callable[[], Any]]
"""What a body registered with ``ctx.after_commit``."""

logger = logging.getLogger("flexorm.actions")

_SHOWN_MISSING = 20
_SHOWN_AMBIGUOUS = 5


class OnSuccess(Protocol):
    """What to write in the action's own transaction once the body succeeded, before the
    commit (the journal row and the idempotency key's answer): it commits with the action's
    writes, or is rolled back with them."""

    def write(self, session: Session, result: Any,
              changes: Mapping[str, Mapping[str, int]] | None = None) -> None:
        """On the action's blocking session (an async session's own, for an async body);
        ``changes``: the row counts the run changed, per table, when they were counted."""


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
    guards: Safeguards = field(default_factory=Safeguards)
    """Dry run, cap and preview token of this run."""

    control: RunControl | None = None
    """A background run's control: progress, and a stop at its next statement."""
    defer: bool = False
    """Check everything (records, policy), then write ``on_success`` without calling the body:
    the run is queued for later."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a run answered and changed."""

    result: Any
    """The encoded result."""
    changes: Changes | None = None
    """What it changed, when it was watched."""
    dry_run: bool = False
    """Everything it wrote was rolled back."""


def _missing_message(collection: CollectionInfo, ids: list[Any]) -> str:
    """Ids naming no record; a full key as the object that names it (Python's ``repr`` of
    its values, ``datetime.date(1999, 1, 1)``, is no way to tell a user which record)."""
    shown = ", ".join(
        json.dumps(encode(dict(zip(collection.primary_key, i, strict=True))))
        if isinstance(i, tuple) and len(i) == len(collection.primary_key) else str(i)
        for i in ids[:_SHOWN_MISSING])
    more = f" and {len(ids) - _SHOWN_MISSING} more" if len(ids) > _SHOWN_MISSING else ""
    return f"no {collection.name} record with id {shown}{more}"


def _references(session: Session, collection: CollectionInfo, column: str, value: Any) -> bool:
    """Whether a row of ``collection`` has ``value`` in ``column`` (a foreign key's target)."""
    target = collection.sa_table.c[column]
    return session.execute(sa.select(target).where(target == value).limit(1)).first() is not None


def _shown_id(value: Any) -> str:
    return repr(list(value)) if isinstance(value, tuple) else repr(value)


def _ambiguous_message(collection: CollectionInfo, value: Any, count: int) -> str:
    """An id matching several rows: how many, and what would name one of them."""
    first = collection.primary_key_field
    if not collection.has_primary_key:
        return (f"id {_shown_id(value)} matches {count} {collection.name} records: "
                f"{collection.name} has no primary key, and its records are told apart by "
                f"their first column, {first}, alone; these cannot be")
    columns = ", ".join(collection.primary_key)
    example = ", ".join(f'"{name}": ...' for name in collection.primary_key)
    return (f"id {_shown_id(value)} matches {count} {collection.name} records, whose key is "
            f"({columns}): send the full key, {{{example}}}")


def _encoded(session: Session, value: Any) -> Any:
    """A body's result, JSON-encoded inside the transaction (lazy attributes can still load);
    ``None`` answers ``true``. Rows it shows whose NUMERIC values the database rounds, or
    that are new or changed in a table whose generated columns or row triggers the database
    runs, are read back first, so the answer shows what was saved."""
    read_back_stale(session, value if isinstance(value, list | tuple) else [value])
    return encode(True if value is None else value)


def _flush_and_forget(session: Session, rows: list[Any]) -> None:
    """Write a chunk's changes and let its rows go (an inverse selection, chunk by chunk)."""
    flush_unnoted(session)
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

    async def run(self, invocation: Invocation) -> Outcome:
        """Run the action: its encoded result, and what it changed when watched.

        Raises:
            TooManyChanges: more rows of a table changed than the action's ``max_affected``.
            PreviewMismatch: the request's preview token is not this run's.
            ConcurrencyConflict: a deadlock or serialization failure (after the declared
                retries), or a lock held by another action for longer than flexorm waits.
            RequestError: the database refused a value that does not fit its column.
            DatabaseUnavailable: the database cannot be reached.
            DatabaseBusy: no connection to it came free within ``pool_timeout``.
        """
        declaration = invocation.bound.declaration
        attempt = 0
        while True:
            try:
                return await self._run_once(invocation)
            except (StatementError, PoolTimeout) as exc:
                kind = classify(exc)
                if kind in RETRYABLE and attempt < declaration.retries:
                    attempt += 1
                    logger.info("action %r: %s, running it again (%d of %d)",
                                invocation.bound.name, kind, attempt, declaration.retries)
                    continue
                error = translate(exc, kind)
                if error is None:
                    raise
                raise error from exc

    async def _run_once(self, invocation: Invocation) -> Outcome:
        """One attempt in one transaction; ``ctx.after_commit`` work once it committed."""
        hooks: Hooks = []
        try:
            if invocation.bound.declaration.is_async:
                async with self._database.sessions() as session, session.begin():
                    track_flushed(session.info, self._rows.triggered)
                    if self._begins_first(invocation):
                        await session.connection(execution_options=WRITE)
                    outcome = await run(self._watched(session, invocation, hooks), session)
            else:
                outcome = await anyio.to_thread.run_sync(self._run_blocking, invocation, hooks)
        except DryRunEnded as ended:  # raised inside the transaction: rolled back
            return Outcome(ended.result, ended.changes, dry_run=True)
        await _after_commit(invocation, hooks)
        return outcome

    def _begins_first(self, invocation: Invocation) -> bool:
        """Whether a run that may write takes its connection before its body runs: always on
        SQLite (``BEGIN IMMEDIATE``, the write lock first); a request, so that it answers
        503 before a body that sends mail first could, when the database is down or every
        connection busy. A background run, whose claim just reached the database in a worker
        sized for its runs, begins with its first statement: a body that sends none takes no
        connection (:mod:`flexorm.actions._transaction`)."""
        return invocation.bound.declaration.writes and (
            invocation.control is None or self._database.dialect == "sqlite")

    def _run_blocking(self, invocation: Invocation, hooks: Hooks) -> Outcome:
        with self._database.sync_sessions() as session, session.begin():
            track_flushed(session.info, self._rows.triggered)
            if self._begins_first(invocation):
                session.connection(execution_options=WRITE)
            return run_blocking(self._watched(session, invocation, hooks), session)

    def _watched(self, session: AsyncSession | Session, invocation: Invocation,
                 hooks: Hooks) -> Steps[Outcome]:
        """The action's steps with its watch around them, then the journal row."""
        blocking = session.sync_session if isinstance(session, AsyncSession) else session
        watch = Watch(blocking, invocation.guards)
        try:
            shaped = yield from self._steps(session, invocation, hooks)
            changes = watch.settle(shaped)
        finally:
            watch.close()
        if invocation.on_success is not None:
            counts = changes.counts() if changes is not None else None
            yield Blocking(invocation.on_success.write, (shaped, counts))
        return Outcome(shaped, changes)

    def _steps(self, session: AsyncSession | Session, invocation: Invocation,
               hooks: Hooks) -> Steps[Any]:
        """Everything an action does in its transaction, for either kind of body."""
        bound = invocation.bound
        if invocation.control is not None:
            yield Blocking(watch, (invocation.control,))
        records, values = yield Blocking(self._prepare, (invocation,))
        ctx = self._context(session, invocation, values, hooks)
        if not (yield from self._policies.steps(bound, ctx)):
            raise denied(bound)
        if invocation.defer:  # queued: the journal row (written by the caller) is all
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
        yield Blocking(flush_unnoted)
        return self._shape(invocation, result)

    # -- shared, on a blocking session --------------------------------------------------------

    @staticmethod
    def _locking(session: Session, invocation: Invocation) -> Locking | None:
        """How the rows of a run are locked: not at all for an action that only reads, nor on
        a database without row locks."""
        declaration = invocation.bound.declaration
        if not declaration.writes or not row_locks(session.get_bind().dialect):
            return None
        return Locking(skip_locked=declaration.skip_locked)

    def _prepare(self, session: Session, invocation: Invocation) -> tuple[list[Any] | None,
                                                                           dict[str, Any]]:
        """The selected records (``None`` for none or an inverse selection) and the parameter
        values with related rows loaded; every missing id reported at once.

        The rows of one collection (records and parameters alike) are loaded together, and the
        collections one after the other by name, so that their locks are always taken in the
        same order."""
        errors: dict[str, list[str]] = {}
        bound = invocation.bound
        lock = self._locking(session, invocation)
        wanted: dict[str, tuple[CollectionInfo, list[tuple[str | None, Sequence[Any]]]]] = {}
        if invocation.ids is not None and not invocation.inverse:
            assert bound.collection is not None
            wanted[bound.collection.name] = (bound.collection, [(None, invocation.ids)])
        values = dict(invocation.values)
        for spec in bound.params:
            value = values.get(spec.name)
            if spec.load_row and value is not None and spec.related is not None:
                entry = wanted.setdefault(spec.related.name, (spec.related, []))
                entry[1].append((spec.name, (value,)))
        records: list[Any] | None = None
        for name in sorted(wanted):
            collection, groups = wanted[name]
            rows = self._rows.get(collection)
            plain = Locking() if lock is not None else None  # parameters' rows: waited for
            loaded = load_groups(session, rows, [ids for _, ids in groups], self._chunk,
                                 lock if groups[0][0] is None else plain)
            for (param, _), selection in zip(groups, loaded, strict=True):
                field = param or "ids"
                problems = [_missing_message(collection, selection.missing)
                            ] if selection.missing else []
                problems += [_ambiguous_message(collection, value, count)
                             for value, count in selection.ambiguous[:_SHOWN_AMBIGUOUS]]
                if problems:
                    errors[field] = problems
                elif param is None:
                    records = selection.rows
                elif not selection.rows:
                    errors[param] = [f"this {collection.name} record is in use by another "
                                     "action; try again"]
                else:
                    values[param] = selection.rows[0]
        for spec in bound.params:  # column parameters holding a foreign key's value
            value = values.get(spec.name)
            if (value is not None and spec.related is not None and not spec.load_row
                    and spec.related_field is not None and spec.name not in errors
                    and not _references(session, spec.related, spec.related_field, value)):
                errors[spec.name] = [_missing_message(spec.related, [value]) if
                                     spec.related_field == spec.related.primary_key_field else
                                     f"no {spec.related.name} record with {spec.related_field}"
                                     f" {value}"]
        if errors:
            raise ValidationError(errors)
        return records, values

    def _context(self, session: AsyncSession | Session, invocation: Invocation,
                 values: Mapping[str, Any], hooks: Hooks) -> ActionContext:
        bound = invocation.bound
        return ActionContext(session=session, caller=invocation.caller,
                             collection=bound.collection, action=bound.name,
                             request=invocation.raw_request, params=dict(values),
                             dry_run=invocation.guards.dry_run, commit_hooks=hooks,
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
                                  frozenset(invocation.ids or ()), after, self._chunk,
                                  self._locking(session, invocation))

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


async def _after_commit(invocation: Invocation, hooks: Sequence[Callable[[], Any]]) -> None:
    """Call what the body registered with ``ctx.after_commit``, in order; log a failure."""
    for hook in hooks:
        try:
            if inspect.iscoroutinefunction(hook):
                value = await hook()
            else:
                value = await anyio.to_thread.run_sync(hook)
            if inspect.isawaitable(value):
                await value
        except Exception:
            logger.exception("action %r committed, but a callback it registered with "
                             "after_commit failed", invocation.bound.name)
