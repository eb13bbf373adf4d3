"""Parsed messages: what the action layer receives, whatever shape the client sent."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flexorm.exceptions import RequestError

__all__ = ["ExecuteRequest", "FieldOptionsRequest", "Message", "RecordId"]

JsonScalar = str | int | float | bool | None

RecordId = str | int | float | Mapping[str, str | int | float]
"""A record id as sent: the first key column's value, or a full key (every key column's)."""


@dataclass(frozen=True, slots=True)
class Message:
    """A message as posted to ``/api/messages/``: its name and its (decoded) params object."""

    name: str
    params: Mapping[str, Any]
    refusal: RequestError | None = field(default=None, repr=False, compare=False)
    """Why the message is refused before it is read (a value no database takes, see
    :mod:`flexorm.protocol.values`); its values are then scrubbed, fit to be recorded."""


@dataclass(frozen=True, slots=True)
class ExecuteRequest:
    """An ``execute_action`` message, whatever shape it came in.

    ``ids`` is ``None`` when the message names no records (a collection or common action), else
    the raw ids as sent (JSON scalars or strings from ``"1,2,3"``, or full keys: objects of
    every key column's value), not yet coerced to the primary key's type. ``single`` is true
    when they came as ``"id"``.
    """

    action: str
    model: str | None = None
    ids: tuple[RecordId, ...] | None = None
    inverse: bool = False
    single: bool = False
    params: Mapping[str, Any] = field(default_factory=dict)
    """The action's parameter values, with protocol keys (``ids``...) taken out."""
    dry_run: bool = False
    """Run the action, answer what it would change, and roll everything back."""
    preview_token: str | None = None
    """The token of a dry run: commit only if this run changes the same row counts."""
    refusal: RequestError | None = field(default=None, repr=False, compare=False)
    """Why the request is refused whatever the action (its values are scrubbed, so that the
    refused run can be recorded)."""


@dataclass(frozen=True, slots=True)
class FieldOptionsRequest:
    """A ``get_field_options`` message: the options of one action parameter or column."""

    field: str
    action: str | None = None
    model: str | None = None
    query: str | None = None
    """Text the user typed to narrow the options."""
    # ``dataclasses.field`` spelled out: the ``field`` attribute above shadows the name for mypy.
    form: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """The form's current values."""
