"""Errors raised by flexorm.

None of them knows anything about HTTP: the server maps them onto the Jet Admin protocol's error
shapes in one place (``flexorm.server.errors``), and the CLI prints them as one line.

The hierarchy::

    FlexormError
    ├── ConfigurationError        bad settings, bad action declarations (a developer's mistake)
    ├── DatabaseError             the database cannot be reached or reflected
    │   ├── MigrationError        flexorm's own tables are missing, behind, or cannot migrate
    │   ├── DatabaseTimeout       the database stopped a statement: past its time limit (503)
    │   └── DatabaseUnavailable   the database cannot be reached right now (503)
    │       └── DatabaseBusy      every connection to it is in use: too much at once (503)
    ├── UnknownCollectionError    a collection name that the reflected schema does not have
    ├── RequestError              a request that cannot be understood (400)
    │   └── UnknownActionError    execute_action names no registered action
    ├── ValidationError           action parameters or ids that do not validate (400, per field)
    ├── ActionError               raised by an action body for its user (400, non_field_errors)
    │   └── TooManyChanges        a run changed more rows than its max_affected (400)
    ├── IdempotencyConflict       an idempotency key reused for another payload, or in use (409)
    ├── PreviewMismatch           a preview_token whose dry run changed other counts (409)
    ├── ConcurrencyConflict       a deadlock, serialization failure or lock wait too long (409)
    ├── PermissionDenied          the caller may not do this (403)
    └── NotAuthenticated          no valid credentials (403, as the reference bridge answers)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

__all__ = [
    "ActionError",
    "ConcurrencyConflict",
    "ConfigurationError",
    "DatabaseBusy",
    "DatabaseError",
    "DatabaseTimeout",
    "DatabaseUnavailable",
    "FlexormError",
    "IdempotencyConflict",
    "MigrationError",
    "NotAuthenticated",
    "PermissionDenied",
    "PreviewMismatch",
    "RequestError",
    "TooManyChanges",
    "UnknownActionError",
    "UnknownCollectionError",
    "ValidationError",
    "first_line",
]

NON_FIELD_ERRORS = "non_field_errors"
"""The key under which errors that belong to no single field are reported."""


def first_line(error: BaseException | str | None, fallback: str = "") -> str:
    """The first line of an error's message, or ``fallback`` when it has none.

    What flexorm shows of a database error: its DETAIL lines can hold row values. An error
    whose message is empty (some drivers raise those) gives ``fallback``, never an
    ``IndexError``.

    Examples:
        >>> first_line(ValueError("value too long\nDETAIL: Key (name)=(x)"))
        'value too long'
        >>> first_line(ValueError(""), "ValueError")
        'ValueError'
    """
    lines = str(error if error is not None else "").strip().splitlines()
    return lines[0] if lines else fallback


class FlexormError(Exception):
    """Base class of every error flexorm raises on purpose.

    ``message`` is kept as text: a body's ``ActionError(exc)`` or ``ActionError(42)`` answers
    with what ``str`` makes of it.
    """

    def __init__(self, message: str) -> None:
        text = str(message)
        super().__init__(text)
        self.message = text


class ConfigurationError(FlexormError):
    """flexorm is set up wrongly: a bad setting, URL or action declaration."""


class DatabaseError(FlexormError):
    """The database cannot be reached, logged into or reflected."""


class MigrationError(DatabaseError):
    """flexorm's own tables are missing or behind this version, or a migration failed.

    The message says in one line what to run (``flexorm db upgrade <url>``).
    """


class DatabaseTimeout(DatabaseError):
    """The database stopped a statement of the request before it finished: past the time it
    gives one (PostgreSQL's ``statement_timeout``, MySQL's ``max_execution_time``, MariaDB's
    ``max_statement_time``), or cancelled by its administrator. Nothing was written."""


class DatabaseUnavailable(DatabaseError):
    """The database cannot be reached right now (down, restarting, refusing connections)."""


class DatabaseBusy(DatabaseUnavailable):
    """Every connection flexorm keeps to the database was in use for as long as a request
    waits for one (``pool_timeout``): more requests at once than ``pool_size`` plus
    ``max_overflow`` connections serve. Nothing was written; trying again later can
    succeed."""


class UnknownCollectionError(FlexormError):
    """A collection name that the reflected schema does not contain."""

    def __init__(self, name: str, known: Sequence[str] = ()) -> None:
        hint = ""
        close = [k for k in known if k.lower() == name.lower() or k.endswith("." + name)]
        if close:
            hint = f" (did you mean {', '.join(repr(k) for k in close[:3])}?)"
        super().__init__(f"unknown collection {name!r}{hint}")
        self.name = name


class RequestError(FlexormError):
    """A request that cannot be understood.

    Args:
        message: what is wrong, for the caller.
        field: the request field at fault; ``None`` reports it under ``non_field_errors``.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class UnknownActionError(RequestError):
    """``execute_action`` names an action that is not registered (for that collection)."""


class ValidationError(FlexormError):
    """Values that do not validate, reported per field.

    Args:
        errors: field name to its messages; ``non_field_errors`` for the whole request.
    """

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in errors.items()}
        first = next(iter(self.errors.items()), ("", [""]))
        super().__init__(f"{first[0]}: {first[1][0]}" if first[0] else "invalid input")


class ActionError(FlexormError):
    """Raised by an action body to tell its user why it did not run.

    The transaction is rolled back and the message is shown in Jet Admin.

    Examples:
        >>> raise ActionError("order 5 was already refunded")  # doctest: +SKIP
    """


class TooManyChanges(ActionError):
    """A run changed more rows of a table than its action's ``max_affected`` allows; it was
    rolled back.

    Examples:
        >>> TooManyChanges("orders", 1234, 500).message
        'would change 1,234 rows of orders; this action may change at most 500'
    """

    def __init__(self, table: str, rows: int, limit: int) -> None:
        super().__init__(f"would change {rows:,} rows of {table}; this action may change at "
                         f"most {limit:,}")
        self.table = table
        self.rows = rows
        self.limit = limit


class PreviewMismatch(FlexormError):
    """A ``preview_token`` that does not match the run it came with: made for another action,
    selection, parameters or caller, or the run changed other row counts than the dry run
    showed. Nothing was committed."""


class IdempotencyConflict(FlexormError):
    """An ``Idempotency-Key`` that cannot be honoured: it was used for a different action or
    payload (``reason="mismatch"``), a request holding it is still running
    (``reason="in_progress"``), or its action ran but its answer was too large to keep, so it
    cannot be replayed (``reason="answer_not_kept"``).

    Args:
        message: what happened, for the caller.
        key: the idempotency key.
        reason: ``"mismatch"``, ``"in_progress"`` or ``"answer_not_kept"``.
    """

    def __init__(self, message: str, *, key: str,
                 reason: Literal["mismatch", "in_progress", "answer_not_kept"]) -> None:
        super().__init__(message)
        self.key = key
        self.reason = reason


class ConcurrencyConflict(FlexormError):
    """Another transaction working on the same rows made this one fail: a deadlock
    (``reason="deadlock"``), a serialization failure (``"serialization"``) or a lock held
    longer than flexorm waits (``"lock_timeout"``). Nothing was written; trying again can
    succeed.

    Args:
        message: what happened, for the caller.
        reason: ``"deadlock"``, ``"serialization"`` or ``"lock_timeout"``.
    """

    def __init__(self, message: str, *,
                 reason: Literal["deadlock", "serialization", "lock_timeout"]) -> None:
        super().__init__(message)
        self.reason = reason


class PermissionDenied(FlexormError):
    """The caller is known but may not do what it asks."""


class NotAuthenticated(FlexormError):
    """The request carries no credentials that flexorm accepts."""


class RunStopped(FlexormError):
    """A background run was stopped before its body finished: cancelled on request
    (``reason="cancelled"``), past its deadline (``reason="deadline"``), because the
    process running it is stopping (``reason="shutdown"``), or because its attempt was given
    to another worker while this one seemed dead (``reason="superseded"``). Raised into the
    body at its next ``ctx.progress`` call or database statement; its writes are rolled back.
    """

    def __init__(self, message: str, *,
                 reason: Literal["cancelled", "deadline", "shutdown", "superseded"]) -> None:
        super().__init__(message)
        self.reason = reason
