"""Dry runs, caps and previews around one run's transaction.

The runner asks a :class:`Watch` to collect what the body changes when the run needs it (a dry
run, an action with ``max_affected``, a request with a ``preview_token``), and to settle the
run after the body's last flush and before anything else is written:

1. a table changed more than ``max_affected`` rows: :class:`~flexorm.exceptions.TooManyChanges`;
2. a ``preview_token`` whose counts differ: :class:`~flexorm.exceptions.PreviewMismatch`;
3. a dry run: :class:`DryRunEnded`, which the runner catches outside the transaction, so that
   everything the body wrote is rolled back and nothing (the journal's success row included)
   is committed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from flexorm.actions.changes import ChangeCollector, Changes
from flexorm.actions.declaration import PREVIEW_PARAM
from flexorm.actions.preview import Preview
from flexorm.exceptions import TooManyChanges, ValidationError
from flexorm.protocol.encoding import encode

__all__ = [
    "PREVIEW_DESCRIPTOR",
    "DryRunEnded",
    "Safeguards",
    "Watch",
    "no_dry_run",
    "previewing",
    "split_preview",
    "summary",
]

PREVIEW_LABEL = "Preview only: nothing is saved"
PREVIEW_TOKEN = "preview_token"  # noqa: S105 - the name of a request field, not a secret

PREVIEW_DESCRIPTOR: Mapping[str, Any] = {
    "name": PREVIEW_PARAM, "field": "BooleanField", "required": False, "default": True,
    "label": PREVIEW_LABEL,
}
"""The parameter ``preview=True`` adds, as ``get_action_list`` shows it."""

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def split_preview(params: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The ``preview`` parameter's value as sent (``None``: not sent), and the others."""
    rest = dict(params)
    return rest.pop(PREVIEW_PARAM, None), rest


def previewing(value: Any) -> bool:
    """Whether the ``preview`` box is checked: it is unless sent unchecked.

    Raises:
        ValidationError: a value that is not a boolean.
    """
    if value is None or value == "":
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValidationError({PREVIEW_PARAM: ["must be true or false"]})


def no_dry_run(action: str, *, dry_run: bool, preview: bool,
               token: bool) -> dict[str, list[str]]:
    """What refuses a dry run (asked with ``dry_run``, or the ``preview`` box) or a
    ``preview_token`` for an action that acts outside its own transaction (declared
    ``effects_elsewhere``, as flexorm's own ``flexorm_cancel_run``): a dry run rolls back only
    that transaction, so it would really do what it only meant to show. Per field; empty when
    none was sent."""
    errors: dict[str, list[str]] = {}
    for field, asked in (("dry_run", dry_run), (PREVIEW_PARAM, preview)):
        if asked:
            errors[field] = [f"action {action!r} acts outside the transaction a dry run rolls "
                             f"back, so it cannot be dry-run: send it without {field}"]
    if token:
        errors[PREVIEW_TOKEN] = [f"action {action!r} cannot be dry-run, so no preview_token "
                                 "is made for it: send it without preview_token"]
    return errors


@dataclass(frozen=True, slots=True)
class Safeguards:
    """What one run must watch."""

    dry_run: bool = False
    """Collect the changes, then roll everything back."""
    max_affected: int | None = None
    preview: Preview | None = None
    """The dry run this run must match."""
    binding: str = ""
    """The digest of this run's request, for ``preview``."""
    shown: int = 20
    """Rows listed per table."""

    @property
    def watching(self) -> bool:
        return self.dry_run or self.max_affected is not None or self.preview is not None


class DryRunEnded(Exception):
    """Raised inside a dry run's transaction once it is settled, to roll it back."""

    def __init__(self, result: Any, changes: Changes) -> None:
        super().__init__("dry run")
        self.result = result
        self.changes = changes


class Watch:
    """The change collector of one run, when its safeguards need one."""

    def __init__(self, session: Session, guards: Safeguards) -> None:
        self.guards = guards
        self._collector = (ChangeCollector(session, shown=guards.shown).__enter__()
                           if guards.watching else None)

    def close(self) -> None:
        if self._collector is not None:
            self._collector.close()

    def settle(self, result: Any) -> Changes | None:
        """After the body's last flush: stop collecting, and refuse or end the run.

        Raises:
            TooManyChanges: a table changed more rows than ``max_affected``.
            PreviewMismatch: the ``preview_token`` is not this run's.
            DryRunEnded: a dry run, settled.
        """
        if self._collector is None:
            return None
        self._collector.close()
        changes = self._collector.changes
        guards = self.guards
        if guards.max_affected is not None:
            for name, table in sorted(changes.tables.items()):
                if table.total > guards.max_affected:
                    raise TooManyChanges(name, table.total, guards.max_affected)
        if guards.preview is not None:
            guards.preview.check(guards.binding, changes.counts())
        if guards.dry_run:
            raise DryRunEnded(result, changes)
        return changes


def summary(result: Any, changes: Changes) -> str:
    """A dry run's answer as text, for Jet Admin's result view.

    Examples:
        >>> from flexorm.actions.changes import RowChange, TableChanges
        >>> print(summary(2, Changes({"orders": TableChanges(updated=2, rows=[
        ...     RowChange(1, "updated", {"status": ["new", "shipped"]})])})))
        Preview only: nothing was saved.
        orders: 2 updated
          1: status new → shipped
          (1 more)
        The action answered: 2
    """
    lines = ["Preview only: nothing was saved."]
    for name, table in sorted(changes.tables.items()):
        if not table.total:
            continue
        counts = ", ".join(f"{n:,} {kind}" for kind, n in table.counts().items() if n)
        lines.append(f"{name}: {counts}")
        for row in table.rows:
            if row.change == "updated":
                what = ", ".join(f"{column} {_text(before)} → {_text(after)}"
                                 for column, (before, after) in row.columns.items())
            else:
                what = row.change
            lines.append(f"  {_text(row.key)}: {what}")
        if table.total > len(table.rows):
            lines.append(f"  ({table.total - len(table.rows):,} more)")
    if len(lines) == 1:
        lines.append("No rows would change.")
    if result is not None and result is not True:
        lines.append(f"The action answered: {_text(result)}")
    return "\n".join(lines)


def _text(value: Any) -> str:
    encoded = encode(value)
    if encoded is None:
        return "empty"
    if isinstance(encoded, list):
        return "/".join(_text(item) for item in encoded)
    return str(encoded)
