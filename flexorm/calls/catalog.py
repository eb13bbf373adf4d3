"""The catalog: every bound action as something to call, built once per runtime.

Each :class:`CallableAction` carries what the MCP server and the HTTP operations show of one
action: its tool name and path, title, description, input schema and hints. Only the bound
actions of the running :class:`~flexorm.actions.service.ActionService` go in, so a schema
reload (a new service) gets a new catalog.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flexorm.actions.binding import BoundAction
from flexorm.actions.params.spec import humanize
from flexorm.actions.service import ActionService
from flexorm.auth.caller import Caller
from flexorm.calls.names import Identity, operation_path, tool_names
from flexorm.calls.schema import Selection, input_schema, selection
from flexorm.journal.runs import STATUS_ACTION

__all__ = ["FIELD_OPTIONS_TOOL", "CallableAction", "Catalog", "catalog"]

FIELD_OPTIONS_TOOL = "get_field_options"
"""flexorm's own tool: search the options of a parameter (its tool name is reserved)."""


@dataclass(frozen=True, slots=True)
class CallableAction:
    """One action, as an MCP tool and an HTTP operation show it."""

    bound: BoundAction
    tool: str
    """The MCP tool name (also the OpenAPI ``operationId``)."""
    path: str
    """The HTTP operation's path, percent-encoded."""
    title: str
    description: str
    input_schema: Mapping[str, Any]
    selection: Selection | None
    """The input keys of the records, for an action that runs on records."""

    @property
    def identity(self) -> Identity:
        bound = self.bound
        return (bound.collection.name if bound.collection else None, bound.name)

    @property
    def read_only(self) -> bool:
        """It changes nothing: declared ``writes=False``, with no effects elsewhere."""
        return not _changes_state(self.bound)

    def hints(self) -> dict[str, Any]:
        """MCP tool annotations: what the declaration says about the action's effects.

        An action that writes may change or delete anything its body touches, and running it
        twice runs it twice; one declared ``writes=False`` changes nothing. Either way it acts
        on one database, not the open world.
        """
        return {
            "title": self.title,
            "readOnlyHint": self.read_only,
            "destructiveHint": not self.read_only,
            "idempotentHint": self.read_only,
            "openWorldHint": False,
        }


def _scope(bound: BoundAction) -> str:
    collection = bound.collection
    if collection is None:
        return "A common action (it runs on no particular records)."
    if not bound.declaration.for_instance:
        return f"An action of the {collection.name} collection."
    if bound.declaration.bulk:
        return (f"Runs once on all the selected {collection.name} records: give their ids, "
                "or inverse=true for every record except those ids.")
    return (f"Runs on each selected {collection.name} record: give its id, or several ids, "
            "or inverse=true for every record except those ids.")


def _changes_state(bound: BoundAction) -> bool:
    return bound.declaration.writes or bound.declaration.effects_elsewhere


def _effects(bound: BoundAction, follow: str | None) -> str:
    declaration = bound.declaration
    if declaration.writes:
        effects = "It writes to the database, in one transaction."
    else:
        effects = "It changes state." if declaration.effects_elsewhere else "It only reads."
    if not declaration.background:
        return effects
    atomic = "" if declaration.atomic else " It commits chunk by chunk of records."
    queued = ('It runs in the background: the answer comes at once, a run id with the status '
              f'"queued", and the run goes on without the caller.{atomic}')
    if follow is not None:
        queued += (f" Call {follow} with that run id for its status, progress, and result or "
                   "error once it ends.")
    return f"{queued} {effects}"


def _description(bound: BoundAction, follow: str | None) -> str:
    doc = inspect.getdoc(bound.declaration.func) or ""
    parts = [doc.strip()] if doc.strip() else []
    parts.append(_scope(bound))
    parts.append(_effects(bound, follow))
    return "\n\n".join(parts)


class Catalog:
    """The callable actions of one action service."""

    def __init__(self, service: ActionService) -> None:
        self._service = service
        bound_actions = service.actions
        identities = [(b.collection.name if b.collection else None, b.name)
                      for b in bound_actions]
        names = tool_names(identities, reserved={FIELD_OPTIONS_TOOL})
        follow = names.get((None, STATUS_ACTION))  # shows a background run, when there is one
        self.entries: tuple[CallableAction, ...] = tuple(
            CallableAction(
                bound=bound, tool=names[identity], path=operation_path(*identity),
                title=bound.declaration.label or humanize(bound.name),
                description=_description(bound, follow),
                input_schema=input_schema(bound, idempotent=service.takes_idempotency_keys(bound)),
                selection=selection(bound),
            )
            for bound, identity in zip(bound_actions, identities, strict=True)
        )
        self._by_bound = {id(entry.bound): entry for entry in self.entries}
        self.by_tool: Mapping[str, CallableAction] = {e.tool: e for e in self.entries}
        self.by_path: Mapping[str, CallableAction] = {e.path: e for e in self.entries}

    @property
    def service(self) -> ActionService:
        return self._service

    async def visible(self, caller: Caller) -> list[CallableAction]:
        """The actions ``caller`` may run (the same filter as ``get_action_list``)."""
        shown = await self._service.visible_actions(caller)
        return [self._by_bound[id(bound)] for bound in shown]


_CATALOGS: weakref.WeakKeyDictionary[ActionService, Catalog] = weakref.WeakKeyDictionary()


def catalog(service: ActionService) -> Catalog:
    """The catalog of ``service``, built on first use and kept as long as the service."""
    found = _CATALOGS.get(service)
    if found is None:
        found = _CATALOGS[service] = Catalog(service)
    return found
