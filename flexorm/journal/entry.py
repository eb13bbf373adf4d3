"""``RunEntry``: one journal row, as the action layer builds it and ``flexorm runs`` reads it."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.exc import StatementError

from flexorm.auth.caller import Caller
from flexorm.exceptions import FlexormError, ValidationError, first_line
from flexorm.journal.tables import NAME_LENGTH
from flexorm.protocol.durations import Duration
from flexorm.protocol.requests import ExecuteRequest
from flexorm.protocol.values import scrub

__all__ = ["ERROR_LENGTH", "INTERFACES", "REDACTED", "Interface", "RunEntry",
           "RunStatus", "error_text", "jsonable", "redact", "stored_text", "utcnow"]

RunStatus = Literal["succeeded", "failed", "rejected", "queued", "running", "cancelled",
                    "expired", "interrupted"]

Interface = Literal["messages", "mcp", "http"]
"""What a run came through: Jet Admin's ``/api/messages/``, an MCP tool, an action's HTTP
operation."""

INTERFACES: tuple[Interface, ...] = ("messages", "mcp", "http")

REDACTED = "[redacted]"
"""What a secret parameter's value is replaced with in the journal."""

ERROR_LENGTH = 2000
"""The most characters of an error the journal keeps."""


def utcnow() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime) -> dt.datetime:
    """``value`` as an aware UTC datetime (SQLite hands back naive ones, stored as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def redact(params: Mapping[str, Any], secret: Collection[str]) -> dict[str, Any]:
    """``params`` with the value of every parameter named in ``secret`` replaced.

    A secret parameter that was not sent stays absent: the journal shows what was sent.

    Examples:
        >>> redact({"amount": 5, "pin": "1234"}, {"pin"})
        {'amount': 5, 'pin': '[redacted]'}
    """
    return {name: REDACTED if name in secret else value for name, value in params.items()}


def stored_text(value: str | None, limit: int) -> str | None:
    """``value`` as a journal column keeps it: at most ``limit`` characters, and the ones some
    database refuses in text (NUL: PostgreSQL; a lone surrogate: every driver) replaced by
    U+FFFD, so that a row a body's message ends up in is always written.

    Examples:
        >>> stored_text("mail\\x00server \\ud800 down", 100)
        'mail\ufffdserver \ufffd down'
        >>> stored_text("abcdef", 3), stored_text(None, 3)
        ('abc', None)
    """
    if value is None:
        return None
    return str(scrub(value[:limit])).replace("\x00", "\ufffd")


def error_text(exc: BaseException) -> str:
    """What the journal keeps of an error: the message the caller saw for flexorm's errors,
    one line with the error's type otherwise (a database error's DETAIL lines, which can hold
    row values, are left out)."""
    if isinstance(exc, ValidationError) and exc.errors:
        text = "; ".join(f"{field}: {message}" for field, messages in exc.errors.items()
                         for message in messages)
    elif isinstance(exc, FlexormError):
        text = exc.message
    elif isinstance(exc, StatementError) and exc.orig is not None:
        text = f"{type(exc.orig).__name__}: {first_line(exc.orig)}"
    else:
        text = f"{type(exc).__name__}: {first_line(exc)}".rstrip(": ")
    return text[:ERROR_LENGTH]


_PLAIN = frozenset({type(None), bool, int, float, str})
"""Types ``jsonable`` returns as they are (exactly these: subclasses such as enums are not)."""


def jsonable(value: Any) -> Any:
    """``value`` made of JSON types only: dates as ISO text, decimals and UUIDs as text, a MySQL
    ``TIME`` as its text and other durations as seconds (as answers write them), enums as their
    value, anything else unknown as ``str(value)``.

    The journal stores what the action was asked and answered; it must never fail to store it.
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, Sequence | set | frozenset) and not isinstance(value, bytes | bytearray):
        # plain items (10,000 integer ids) are kept without a call each
        return [item if type(item) in _PLAIN else jsonable(item) for item in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Duration):
        return str(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return value.hex()
    return str(value)


@dataclass(frozen=True, slots=True)
class RunEntry:
    """One run of an action, as the journal stores it.

    Build it with :meth:`for_request`, which redacts secret parameters and keeps only what may
    be stored about the caller (never a key or a token).
    """

    action: str
    status: RunStatus
    started_at: dt.datetime
    finished_at: dt.datetime | None
    """``None`` while a background run is queued or running."""
    collection: str | None = None
    ids: tuple[Any, ...] | None = None
    """The ids as sent; ``None`` when the action named no records."""
    inverse: bool = False
    """The selection is every record except ``ids``."""
    params: Mapping[str, Any] = field(default_factory=dict)
    """The parameters as sent, secret ones already redacted."""
    caller_kind: str | None = None
    caller_user_id: str | None = None
    caller_key_name: str | None = None
    result: Any = None
    """The action's answer (``succeeded``), when the journal keeps it
    (:mod:`flexorm.journal.kept`)."""
    error: str | None = None
    """Why it failed or was rejected; for a success, why its result is not kept, when it is
    not."""
    request_id: str | None = None
    idempotency_key: str | None = None
    dry_run: bool = False
    """The run was rolled back on purpose, to show what it would change."""
    changes: Mapping[str, Mapping[str, int]] | None = None
    """Per table, the rows inserted, updated and deleted (dry runs, and runs whose action
    counts them); ``None`` when not counted."""
    interface: Interface | None = None
    """What the run came through; ``None`` for runs recorded before flexorm kept it."""
    id: int | None = None
    """The row's id, once stored."""
    background: bool = False
    """Answered at once and run later by a worker."""
    running_at: dt.datetime | None = None
    """When a worker last started the background run."""
    expires_at: dt.datetime | None = None
    """A queued run not started by then expires."""
    attempts: int = 0
    """How many times a worker started the background run."""
    progress_done: int | None = None
    progress_total: int | None = None
    progress_message: str | None = None
    cancel_requested: bool = False

    @property
    def duration_ms(self) -> int | None:
        """Milliseconds from start to finish (``None`` until finished)."""
        if self.finished_at is None:
            return None
        return max(0, round((self.finished_at - self.started_at).total_seconds() * 1000))

    @classmethod
    def for_request(
        cls,
        request: ExecuteRequest,
        caller: Caller | None,
        *,
        status: RunStatus,
        started_at: dt.datetime,
        finished_at: dt.datetime | None = None,
        background: bool = False,
        secret: Collection[str] = (),
        result: Any = None,
        error: str | None = None,
        request_id: str | None = None,
        idempotency_key: str | None = None,
        changes: Mapping[str, Mapping[str, int]] | None = None,
        interface: Interface | None = "messages",
    ) -> RunEntry:
        """The entry of one ``execute_action``.

        Args:
            request: the parsed request (its params as sent, protocol keys already taken out).
            caller: who sent it; only its kind, user id and key name are kept.
            status: ``succeeded``, ``failed`` (the body raised) or ``rejected`` (it never ran).
            started_at: when the request arrived.
            finished_at: when it ended; now when not given (``None`` for a queued run).
            background: a run answered at once, to run later.
            secret: names of parameters whose values are redacted.
            result: the answer, for a success.
            error: the message, for a failure or a rejection.
            request_id: the server's request id, to match logs.
            idempotency_key: the request's idempotency key.
            changes: the row counts the run changed, per table, when counted.
            interface: what the request came through.

        Examples:
            >>> entry = RunEntry.for_request(
            ...     ExecuteRequest(action="refund", model="orders", ids=(5,),
            ...                    params={"pin": "1234"}),
            ...     Caller(kind="key", key_name="key-1"),
            ...     status="succeeded", started_at=utcnow(), secret={"pin"}, result=True)
            >>> entry.params
            {'pin': '[redacted]'}
        """
        return cls(
            action=request.action,
            collection=request.model,
            ids=tuple(request.ids) if request.ids is not None else None,
            inverse=request.inverse,
            params=scrub(redact(request.params, secret)),
            caller_kind=caller.kind if caller else None,
            caller_user_id=caller.user_id if caller else None,
            caller_key_name=caller.key_name if caller else None,
            status=status,
            result=result,
            error=error,
            started_at=started_at,
            finished_at=(finished_at if finished_at is not None
                         else None if status == "queued" else utcnow()),
            request_id=request_id,
            idempotency_key=idempotency_key,
            dry_run=request.dry_run,
            changes=changes,
            background=background,
            interface=interface,
        )

    def row(self) -> dict[str, Any]:
        """The column values of the journal row (without ``id``)."""
        return {
            "action": self.action,
            "collection": self.collection,
            "ids": jsonable(list(self.ids)) if self.ids is not None else None,
            "inverse": self.inverse,
            "params": jsonable(self.params),
            "caller_kind": self.caller_kind,
            "caller_user_id": stored_text(self.caller_user_id, NAME_LENGTH),
            "caller_key_name": stored_text(self.caller_key_name, NAME_LENGTH),
            "status": self.status,
            "result": jsonable(self.result),
            "error": stored_text(self.error, ERROR_LENGTH),
            "started_at": as_utc(self.started_at),
            "finished_at": as_utc(self.finished_at) if self.finished_at is not None else None,
            "duration_ms": self.duration_ms,
            "request_id": self.request_id,
            "idempotency_key": self.idempotency_key,
            "dry_run": self.dry_run,
            "changes": jsonable(self.changes) if self.changes is not None else None,
            "background": self.background,
            "interface": self.interface,
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RunEntry:
        """The entry of a stored journal row."""
        ids = row["ids"]
        finished = row["finished_at"]
        return cls(
            id=row["id"],
            action=row["action"],
            collection=row["collection"],
            ids=tuple(ids) if ids is not None else None,
            inverse=bool(row["inverse"]),
            params=row["params"] or {},
            caller_kind=row["caller_kind"],
            caller_user_id=row["caller_user_id"],
            caller_key_name=row["caller_key_name"],
            status=row["status"],
            result=row["result"],
            error=row["error"],
            started_at=as_utc(row["started_at"]),
            finished_at=as_utc(finished) if finished is not None else None,
            request_id=row["request_id"],
            idempotency_key=row["idempotency_key"],
            dry_run=bool(row["dry_run"]),
            changes=row["changes"],
            background=bool(row.get("background", False)),
            running_at=_when(row.get("running_at")),
            expires_at=_when(row.get("expires_at")),
            attempts=int(row.get("attempts") or 0),
            progress_done=row.get("progress_done"),
            progress_total=row.get("progress_total"),
            progress_message=row.get("progress_message"),
            cancel_requested=bool(row.get("cancel_requested", False)),
            interface=row.get("interface"),
        )

    def as_json(self) -> dict[str, Any]:
        """The entry as JSON types, as ``flexorm runs --json`` prints it."""
        out = {"id": self.id, **jsonable(self.row())}
        out["started_at"] = as_utc(self.started_at).isoformat()
        out["finished_at"] = (as_utc(self.finished_at).isoformat()
                              if self.finished_at is not None else None)
        if self.background:
            out.update({
                "running_at": _iso(self.running_at), "expires_at": _iso(self.expires_at),
                "attempts": self.attempts, "cancel_requested": self.cancel_requested,
                "progress": {"done": self.progress_done, "total": self.progress_total,
                             "message": self.progress_message},
            })
        return out


def _when(value: dt.datetime | None) -> dt.datetime | None:
    return as_utc(value) if value is not None else None


def _iso(value: dt.datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None
