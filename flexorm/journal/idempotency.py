"""Idempotency keys (``flexorm_idempotency``): one key runs its action once.

The protocol of one request carrying a key::

    claim   (own short transaction, committed at once)
      ├── new         → run the body; in its transaction: journal row + complete(); commit
      │                 the body failed → rollback; then release() (+ failed journal row)
      ├── replay      → answer claim.response; the body does not run
      ├── not_kept    → 409: the action ran, but its answer was too large to keep; the body
      │                 does not run
      ├── mismatch    → 409: the key was used for another action or payload
      └── in_progress → 409: a request holding the key is still running; retry later

The key is the table's primary key, so among concurrent claims of one key exactly one insert
wins, on every database; the others see the winner's row. A ``pending`` row is a lease: if the
process holding it dies, the key becomes claimable again when the lease ends. A ``done`` row
replays until the key's time to live ends. Expired rows count as absent and are deleted by the
next claim.

A request that finds the key in progress is answered 409 at once rather than waiting for the
first one's answer: waiting would hold a server worker for as long as the slowest action, and
a 409 is what a client retrying with the same key expects (it retries later and gets the
replay).

An answer whose result is larger than the journal keeps (:mod:`flexorm.journal.kept`) is stored
as a marker naming the run and the result's size (:class:`AnswerNotKept`): a replay must not
run the action again, and cannot send what was not kept, so it is answered 409 saying so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from flexorm.exceptions import IdempotencyConflict
from flexorm.journal.entry import as_utc, jsonable, utcnow
from flexorm.journal.store import AsyncExecutor, SyncExecutor
from flexorm.journal.tables import idempotency_keys

__all__ = ["AnswerNotKept", "Claim", "IdempotencyStore", "fingerprint"]

ClaimKind = Literal["new", "replay", "not_kept", "mismatch", "in_progress"]

_ATTEMPTS = 3


def fingerprint(action: str, collection: str | None, ids: Sequence[Any] | None,
                params: Mapping[str, Any], *, inverse: bool = False,
                caller: Sequence[str | None] | None = None) -> str:
    """The sha256 (hex) of the canonical JSON of a request: what "the same payload" means.

    Keys are sorted and whitespace dropped, so ``{"a": 1, "b": 2}`` and ``{"b": 2, "a": 1}``
    are the same payload; ids keep their order and their JSON type (``5`` is not ``"5"``).
    ``params`` must not contain the idempotency key itself. ``caller`` (who sent it: kind, user
    id, key name) is part of the payload when given, so one caller's key never replays its
    answer to another caller.

    Examples:
        >>> fingerprint("refund", "orders", [5], {"b": 2, "a": 1}) == fingerprint(
        ...     "refund", "orders", [5], {"a": 1, "b": 2})
        True
    """
    payload = {
        "action": action,
        "collection": collection,
        "ids": jsonable(list(ids)) if ids is not None else None,
        "inverse": inverse,
        "params": jsonable(params),
    }
    if caller is not None:
        payload["caller"] = list(caller)
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


_NOT_KEPT = "flexorm_answer_not_kept"
"""The key of the marker a key stores in place of an answer too large to keep (an answer is
``{"result": ...}``, so the two are never mistaken)."""


@dataclass(frozen=True, slots=True)
class AnswerNotKept:
    """What a key stores in place of an answer whose result was too large to keep: the
    result's size, and the run that answered it (its journal row), named once its row is in.

    Examples:
        >>> AnswerNotKept(2_000_000).stored(42)
        {'flexorm_answer_not_kept': {'bytes': 2000000, 'run': 42, 'status': 'succeeded'}}
    """

    size: int
    """Bytes of the result's JSON."""

    def stored(self, run_id: int | None) -> dict[str, Any]:
        """The marker the key keeps as its answer."""
        return {_NOT_KEPT: {"bytes": self.size, "run": run_id, "status": "succeeded"}}


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of :meth:`IdempotencyStore.claim`."""

    kind: ClaimKind
    key: str
    response: Any = None
    """The stored answer, for ``replay``; the marker stored in its place, for ``not_kept``."""

    @property
    def owned(self) -> bool:
        """This request holds the key: run the body."""
        return self.kind == "new"

    def conflict(self) -> IdempotencyConflict:
        """The error answering a ``not_kept``, ``mismatch`` or ``in_progress`` claim (the
        server's 409)."""
        if self.kind == "not_kept":
            marker = self.response[_NOT_KEPT]
            run = f"run {marker['run']}, " if marker.get("run") is not None else ""
            return IdempotencyConflict(
                f"the action already ran with this Idempotency-Key ({run}"
                f"{marker.get('status', 'succeeded')}), but its result ({marker['bytes']:,} "
                "bytes) was too large to keep, so its answer cannot be sent again",
                key=self.key, reason="answer_not_kept")
        if self.kind == "mismatch":
            return IdempotencyConflict(
                "this Idempotency-Key was already used for a different action or payload",
                key=self.key, reason="mismatch")
        if self.kind == "in_progress":
            return IdempotencyConflict(
                "a request with this Idempotency-Key is still running; retry later",
                key=self.key, reason="in_progress")
        raise ValueError(f"a {self.kind!r} claim is not a conflict")


def _done(key: str, response: Any) -> Claim:
    """The claim of a key whose answer is stored: a replay, unless only its marker is."""
    if isinstance(response, dict) and isinstance(response.get(_NOT_KEPT), dict):
        return Claim("not_kept", key, response)
    return Claim("replay", key, response)


_INSERT = idempotency_keys.insert()
_INSERT_IF_ABSENT: dict[str, sa.Insert] = {
    "postgresql": postgresql.insert(idempotency_keys)
    .on_conflict_do_nothing(index_elements=["key"]).returning(idempotency_keys.c.key),
    "sqlite": sqlite.insert(idempotency_keys)
    .on_conflict_do_nothing(index_elements=["key"]).returning(idempotency_keys.c.key),
}
"""A key's claim: built once, its values sent as parameters (as a journal row's ``INSERT``);
where the database has ``ON CONFLICT``, a key another request holds inserts nothing."""


class IdempotencyStore:
    """Claims, completes and releases idempotency keys.

    Args:
        ttl: how long a completed key replays its answer.
        lease: how long a claimed key stays ``pending`` without being completed or released
            before another request may claim it (its holder is presumed dead). An action
            running longer than this could run twice with one key.
        clock: the current time, aware (tests pass a fake one).

    Examples:
        >>> keys = IdempotencyStore(ttl=dt.timedelta(hours=24))
        >>> async with engine.begin() as conn:  # doctest: +SKIP
        ...     claim = await keys.claim(conn, key, "refund", fingerprint(...))
    """

    def __init__(self, *, ttl: dt.timedelta = dt.timedelta(hours=24),
                 lease: dt.timedelta = dt.timedelta(minutes=10),
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.ttl = ttl
        self.lease = lease
        self._clock = clock

    def _now(self) -> dt.datetime:
        return as_utc(self._clock())

    async def _insert_if_absent(self, db: AsyncExecutor, values: dict[str, Any]) -> bool:
        """Insert the row unless the key exists; whether it was inserted."""
        dialect = db.dialect.name if isinstance(db, AsyncConnection) else db.get_bind().dialect.name
        statement = _INSERT_IF_ABSENT.get(dialect)
        if statement is None:
            try:
                async with db.begin_nested():
                    await db.execute(_INSERT, values)
            except IntegrityError:
                return False
            return True
        # RETURNING rather than rowcount: it names the inserted row on every driver
        return (await db.execute(statement, values)).first() is not None

    async def peek(self, db: AsyncExecutor, key: str, action: str,
                   fingerprint: str) -> Claim | None:
        """What claiming ``key`` would answer when it is already held or done (a replay, a
        mismatch, "still running"), found by reading only; ``None`` when it is free.

        Reading first lets a request answer while another transaction holds the database's
        write lock (SQLite, during a writing action), where :meth:`claim` would wait for it.
        """
        row = (await db.execute(
            sa.select(idempotency_keys.c.action, idempotency_keys.c.fingerprint,
                      idempotency_keys.c.status, idempotency_keys.c.response)
            .where(idempotency_keys.c.key == key,
                   idempotency_keys.c.expires_at > self._now()))).first()
        if row is None:
            return None
        if row.action != action or row.fingerprint != fingerprint:
            return Claim("mismatch", key)
        if row.status == "done":
            return _done(key, row.response)
        return Claim("in_progress", key)

    async def claim(self, db: AsyncExecutor, key: str, action: str,
                    fingerprint: str) -> Claim:
        """Claim ``key`` for a request whose payload has ``fingerprint``.

        Runs in ``db``'s transaction, which the caller commits at once (other requests must
        see the claim). Expired keys, this one included, are deleted first.
        """
        now = self._now()
        await self.purge_expired(db)
        values = {"key": key, "action": action, "fingerprint": fingerprint,
                  "status": "pending", "response": None, "created_at": now,
                  "expires_at": now + self.lease}
        for _ in range(_ATTEMPTS):
            if await self._insert_if_absent(db, values):
                return Claim("new", key)
            row = (await db.execute(
                sa.select(idempotency_keys.c.action, idempotency_keys.c.fingerprint,
                          idempotency_keys.c.status, idempotency_keys.c.response)
                .where(idempotency_keys.c.key == key))).first()
            if row is None:  # released between our insert and our read: try again
                continue
            if row.action != action or row.fingerprint != fingerprint:
                return Claim("mismatch", key)
            if row.status == "done":
                return _done(key, row.response)
            return Claim("in_progress", key)
        return Claim("in_progress", key)

    def _complete(self, key: str, response: Any, run_id: int | None) -> sa.Update:
        stored = response.stored(run_id) if isinstance(response, AnswerNotKept) \
            else jsonable(response)
        return (idempotency_keys.update()
                .where(idempotency_keys.c.key == key, idempotency_keys.c.status == "pending")
                .values(status="done", response=stored, expires_at=self._now() + self.ttl))

    async def complete(self, db: AsyncExecutor, key: str, response: Any, *,
                       run_id: int | None = None) -> None:
        """Store the answer of a claimed key; it replays until the time to live ends. An
        :class:`AnswerNotKept` stores its marker, naming the run ``run_id``.

        Call it in the action's transaction, so the key is done exactly when the action's
        writes are committed.
        """
        await db.execute(self._complete(key, response, run_id))

    def complete_sync(self, db: SyncExecutor, key: str, response: Any, *,
                      run_id: int | None = None) -> None:
        """:meth:`complete` on a blocking connection or session (a sync body's session)."""
        db.execute(self._complete(key, response, run_id))

    async def release(self, db: AsyncExecutor, key: str) -> None:
        """Give a claimed key back after the action failed: a retry may run it again."""
        await db.execute(idempotency_keys.delete().where(
            idempotency_keys.c.key == key, idempotency_keys.c.status == "pending"))

    async def purge_expired(self, db: AsyncExecutor) -> int:
        """Delete the keys whose time is up; how many."""
        result = await db.execute(
            idempotency_keys.delete().where(idempotency_keys.c.expires_at <= self._now()))
        return int(getattr(result, "rowcount", 0) or 0)
