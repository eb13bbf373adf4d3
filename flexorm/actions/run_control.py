"""``RunControl``: what a running background action shares with the process that runs it.

The body reports progress and learns of a stop through it (``ctx.progress`` and every
database statement call :meth:`RunControl.check`); the process running it flushes the progress
to the journal now and then, and stops it on a cancel request or at its deadline. Nothing here
touches a database: :meth:`RunControl.progress` costs a few attribute writes, so a body may call
it for every row.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from flexorm.exceptions import RunStopped
from flexorm.journal.entry import stored_text
from flexorm.journal.tables import NAME_LENGTH
from flexorm.protocol.encoding import encode_json

__all__ = ["FinishAlone", "Progress", "RunControl", "StopReason"]

StopReason = Literal["cancelled", "deadline", "shutdown", "superseded"]

_BIGINT = 2**63
"""The journal keeps progress counts in 64-bit signed columns."""


def _count(name: str, value: object) -> None:
    """Refuse a progress count the journal cannot keep, with what the body passed."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"progress {name} must be a whole number, not {value!r}")
    if not -_BIGINT <= value < _BIGINT:
        raise ValueError(f"progress {name} must be below 2**63 in size, not {value}")


@dataclass(frozen=True, slots=True)
class Progress:
    """A run's progress as last reported: ``done`` of ``total`` (unknown: ``None``)."""

    done: int
    total: int | None = None
    message: str | None = None


FinishAlone = Callable[[Any, str | None, Mapping[str, Any]], Awaitable[bool | None]]
"""``(result, note, progress columns)``: whether the attempt was still the run's current one;
``None`` when that way is not open (another database)."""


class RunControl:
    """The control of one background run.

    Args:
        run_id: the run's journal row.
        attempt: which attempt this is (1 for the first).
        deadline: seconds the run may take from now; ``None``: no deadline.
        checkpoint: ``atomic=False``: the chunks earlier attempts committed.
    """

    def __init__(self, run_id: int, *, attempt: int = 1, deadline: float | None = None,
                 checkpoint: Mapping[str, Any] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.run_id = run_id
        self.attempt = attempt
        self.deadline = deadline
        self._clock = clock
        self._deadline_at = clock() + deadline if deadline is not None else None
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._written: Progress | None = None
        self._stop: StopReason | None = None
        self.backend_pid: int | None = None
        """The server's id of the connection running the body's transaction (PostgreSQL's
        backend, MySQL's and MariaDB's thread), to cancel its statement."""
        self.checkpoint: dict[str, Any] = dict(checkpoint or {"ids": [], "results": []})
        """``atomic=False``: the ids and results of every committed chunk, in order."""
        self.results_left_out = 0
        """``atomic=False``, a separate state database: the chunks whose result that database
        refused (their ids are kept, their result is ``None``)."""
        self.results_size = len(encode_json(self.checkpoint["results"])) if checkpoint else 0
        """``atomic=False``: about the bytes of the JSON of the chunks' results the checkpoint
        keeps, which the journal's ``journal_result_limit`` bounds."""
        self.results_not_kept = 0
        """``atomic=False``: the chunks whose result would have taken the checkpoint's results
        past that limit (their ids are kept, their result is ``None``)."""
        self.interrupt: Callable[[], None] | None = None
        """Interrupts the body's running statement (SQLite), called by :meth:`stop`."""
        self.finish_alone: FinishAlone | None = None
        """How the running process writes the run's end by itself (``result`` as kept, the
        note, the last progress' columns), when the run's transaction sent nothing to commit
        it with: on a connection it keeps (PostgreSQL). ``None``: the journal's own way."""

    # -- the body's side ----------------------------------------------------------------------

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """Record progress (flushed to the journal by the running process), then
        :meth:`check`.

        Raises:
            TypeError: ``done`` or ``total`` is not a whole number.
            ValueError: ``done`` or ``total`` is beyond what the journal's 64-bit columns
                hold.
            RunStopped: the run was cancelled or passed its deadline.
        """
        _count("done", done)
        if total is not None:
            _count("total", total)
        text = None if message is None else stored_text(str(message), NAME_LENGTH)
        self._progress = Progress(done, total, text)
        self.check()

    def check(self) -> None:
        """Raise :class:`~flexorm.exceptions.RunStopped` once the run is to stop."""
        if self._stop is None and self._deadline_at is not None \
                and self._clock() >= self._deadline_at:
            self.stop("deadline")
        if self._stop is not None:
            raise self.stopped_error()

    def stopped_error(self) -> RunStopped:
        """The error a stopped run ends with."""
        if self._stop == "deadline":
            return RunStopped(f"the run passed its deadline of {self.deadline:g}s and was "
                              "rolled back", reason="deadline")
        if self._stop == "shutdown":
            return RunStopped("the process running it stopped; rolled back",
                              reason="shutdown")
        if self._stop == "superseded":
            return RunStopped(f"attempt {self.attempt} is no longer the run's current one; "
                              "rolled back", reason="superseded")
        return RunStopped("the run was cancelled and rolled back", reason="cancelled")

    # -- the running process's side -----------------------------------------------------------

    @property
    def stopped(self) -> StopReason | None:
        """Why the run is to stop; ``None`` while it may go on."""
        if self._stop is None and self._deadline_at is not None \
                and self._clock() >= self._deadline_at:
            self.stop("deadline")
        return self._stop

    def remaining(self) -> float | None:
        """Seconds left before the deadline (``None``: no deadline)."""
        if self._deadline_at is None:
            return None
        return max(0.0, self._deadline_at - self._clock())

    def stop(self, reason: StopReason) -> bool:
        """Ask the run to stop; whether this call did (the first reason wins)."""
        with self._lock:
            if self._stop is not None:
                return False
            self._stop = reason
        if self.interrupt is not None:
            # best effort: the next statement stops the body anyway
            with contextlib.suppress(Exception):
                self.interrupt()
        return True

    @property
    def latest(self) -> Progress | None:
        """The last progress reported by the body, written or not."""
        return self._progress

    def unwritten_progress(self) -> Progress | None:
        """The last progress reported, unless the journal already has it (see
        :meth:`progress_written`); ``None`` when it has, or when there is none.

        Reading it does not mark it written: a write that fails, or that is still going on
        when the run ends, leaves it unwritten, so the run's end writes it with its status.
        """
        current = self._progress
        if current is None or current == self._written:
            return None
        return current

    def progress_written(self, progress: Progress) -> None:
        """``progress`` (from :meth:`unwritten_progress`) is committed in the journal."""
        with self._lock:
            self._written = progress
