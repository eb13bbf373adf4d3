"""Calling an action with a tool's or an operation's JSON arguments.

The arguments are one flat object (see :mod:`flexorm.calls.schema`): the selection keys are
taken out and the rest are the action's parameters. They become the ``params`` of an
``execute_action`` message, read by the protocol's own parser, and the request runs through
:meth:`~flexorm.actions.service.ActionService.execute`: the same validation, permissions,
transaction, journal and idempotency as Jet Admin's ``execute_action``. Nothing here decides
anything about the action itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from flexorm.actions.service import ActionService
from flexorm.auth.caller import Caller
from flexorm.calls.catalog import CallableAction
from flexorm.calls.schema import DRY_RUN, PREVIEW_TOKEN, Selection
from flexorm.exceptions import RequestError
from flexorm.journal.entry import Interface
from flexorm.protocol.execute import parse_execute
from flexorm.protocol.headers import IDEMPOTENCY_PARAM
from flexorm.protocol.headers import idempotency_key as read_idempotency_key
from flexorm.protocol.requests import ExecuteRequest

__all__ = ["call", "execute_request"]


def execute_request(entry: CallableAction, arguments: Mapping[str, Any] | None) -> ExecuteRequest:
    """The ``execute_action`` request that ``arguments`` make for ``entry``'s action.

    Raises:
        RequestError: the arguments are not an object, or their selection is malformed (under
            the key at fault).
    """
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, Mapping):
        raise RequestError("the arguments must be a JSON object")
    bound = entry.bound
    message: dict[str, Any] = {"name": bound.name}
    if bound.collection is not None:
        message["model"] = bound.collection.name
    params = dict(arguments)
    keys = entry.selection
    if keys is not None:
        record_id = params.pop(keys.id, None) if not keys.bulk else None
        ids = params.pop(keys.ids, None)
        inverse = params.pop(keys.inverse, None)
        if record_id is not None:
            message["id"] = record_id
        if ids is not None:
            if not isinstance(ids, list):
                raise RequestError("must be a list of record ids", field=keys.ids)
            message["ids"] = ids
        if inverse is not None:
            message["inverseIds"] = inverse
    taken = {spec.name for spec in bound.params}
    for key in (DRY_RUN, PREVIEW_TOKEN):
        if key not in taken and key in params:
            message[key] = params.pop(key)
    try:
        request = parse_execute(message)  # the selection, read as Jet Admin's is
    except RequestError as exc:
        raise RequestError(exc.message, field=_renamed(exc.field, keys)) from None
    # the rest are parameters, all of them: none is taken for a selection (as the protocol's
    # legacy ``params.ids`` would be)
    return dataclasses.replace(request, params=params)


def _renamed(field: str | None, keys: Selection | None) -> str | None:
    """The protocol's key in an error, as the caller's arguments name it."""
    if keys is None or field is None:
        return field
    return {"id": keys.id, "ids": keys.ids, "inverseIds": keys.inverse}.get(field, field)


async def call(service: ActionService, entry: CallableAction,
               arguments: Mapping[str, Any] | None, *, caller: Caller, interface: Interface,
               raw_request: Any = None, request_id: str | None = None,
               idempotency_key: str | None = None) -> dict[str, Any]:
    """Run ``entry``'s action on ``service`` with ``arguments``: ``{"result": value}``,
    journaled under ``interface``. The idempotency key is ``idempotency_key`` (an
    ``Idempotency-Key`` header, as the client sent it) or the ``idempotency_key`` argument,
    unless the action has a parameter of that name.

    Raises:
        Whatever :meth:`~flexorm.actions.service.ActionService.execute` raises: flexorm's
        errors carry the per-field messages Jet Admin gets.
    """
    request = execute_request(entry, arguments)
    key = idempotency_key
    if IDEMPOTENCY_PARAM not in {spec.name for spec in entry.bound.params}:
        # one in the arguments (what a tool call can carry) or in the header, not two
        key, request = read_idempotency_key(idempotency_key, {}, request)
    return await service.execute(request, caller=caller, raw_request=raw_request,
                                 request_id=request_id, idempotency_key=key,
                                 interface=interface)
