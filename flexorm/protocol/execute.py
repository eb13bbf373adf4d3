"""``execute_action`` params, in every shape clients send, as an :class:`ExecuteRequest`.

The message's own ``name`` is ``execute_action``; what is parsed here is its ``params`` object,
whose ``name`` is the action's::

    {"name": "execute_action", "params": {"model": "orders", "name": "refund", "id": 5,
                                          "params": {"amount": "10.00"}}}

Shapes (protocol section 2): a single ``id``; a list of ``ids`` with ``inverseIds``; legacy
``"ids": "1,2,3"``; ids inside the inner params (``{"name": "ship", "params": {"ids": [1]}}``);
no ids at all for collection and common actions.

flexorm's own keys, beside ``model``, ``name`` and ``ids``: ``"dry_run": true`` runs the action
and rolls it back, answering what it would change; ``"preview_token"`` (from a dry run's answer)
commits only if the run changes what the dry run showed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from flexorm.exceptions import RequestError
from flexorm.protocol.body import decode_object
from flexorm.protocol.requests import ExecuteRequest, RecordId
from flexorm.protocol.values import refusal as values_refusal
from flexorm.protocol.values import scrub

__all__ = ["parse_execute"]

_IDS = "ids"
_INVERSE = "inverseIds"
_DRY_RUN = "dry_run"
_PREVIEW = "preview_token"
_TOKEN_LENGTH = 4096


def parse_execute(params: Mapping[str, Any], *,
                  refusal: RequestError | None = None) -> ExecuteRequest:
    """Read the params of an ``execute_action`` message.

    Args:
        params: the message's decoded ``params`` object.
        refusal: the message's :attr:`~flexorm.protocol.requests.Message.refusal`, carried to
            the request (whose values are then read leniently: they are only recorded).

    Raises:
        RequestError: under the key at fault, for a missing action name or a value of the wrong
            type (``ids`` as an object, ``id`` as a list, ``inverseIds`` not a boolean...).

    Examples:
        >>> parse_execute({"model": "orders", "name": "ship", "ids": "1,2"})
        ExecuteRequest(action='ship', model='orders', ids=('1', '2'), inverse=False, single=False, params={}, dry_run=False, preview_token=None)
        >>> parse_execute({"name": "ship", "params": {"ids": [1, 2], "carrier": "UPS"}}).params
        {'carrier': 'UPS'}
    """  # noqa: E501
    request = _parse(params)
    if refusal is None and isinstance(params.get("params"), str):  # decoded only here
        found = values_refusal(request.params)
        if found is not None:
            path, why = found
            return dataclasses.replace(request, params=scrub(request.params),
                                       refusal=RequestError(why, field=path[0]))
    return request if refusal is None else dataclasses.replace(request, refusal=refusal)


def _parse(params: Mapping[str, Any]) -> ExecuteRequest:
    action = params.get("name")
    if action in (None, ""):
        raise RequestError("this field is required", field="name")
    if not isinstance(action, str):
        raise RequestError("must be a string", field="name")
    model = params.get("model")
    if model == "":
        model = None
    if model is not None and not isinstance(model, str):
        raise RequestError("must be a string", field="model")
    values = decode_object(params.get("params"), field="params")

    dry_run = _flag(params.get(_DRY_RUN), _DRY_RUN)
    token = _token(params.get(_PREVIEW))
    if dry_run and token is not None:
        raise RequestError("a preview_token is for the real run, not for another dry run",
                           field=_PREVIEW)

    record_id = params.get("id")
    has_ids = params.get(_IDS) is not None
    if record_id is not None and has_ids:
        raise RequestError("send either id or ids, not both")
    if record_id is not None:
        if params.get(_INVERSE) is not None and params.get(_INVERSE) is not False:
            # named by its field alone: an operation or a tool calls it inverse
            raise RequestError("needs a list of ids, not a single id", field=_INVERSE)
        return ExecuteRequest(action=action, model=model, ids=(_scalar_id(record_id, "id"),),
                              single=True, params=values, dry_run=dry_run,
                              preview_token=token)

    source: Mapping[str, Any] = params
    if not has_ids and values.get(_IDS) is not None:
        # Legacy clients put the selection inside the action's own params: take it out.
        source = values
        values = {k: v for k, v in values.items() if k not in (_IDS, _INVERSE)}
    ids = _ids(source.get(_IDS))
    inverse = _inverse(source.get(_INVERSE))
    if inverse and ids is None:
        ids = ()
    return ExecuteRequest(action=action, model=model, ids=ids, inverse=inverse, params=values,
                          dry_run=dry_run, preview_token=token)


def _scalar_id(value: Any, field: str) -> RecordId:
    """An id as sent (``true`` and ``false`` too: a boolean key's values); whether it fits the
    key is the collection's to say."""
    if isinstance(value, dict) and value and all(
            isinstance(key, str) and isinstance(part, str | int | float)
            for key, part in value.items()):
        return value  # a full key: {"column": value, ...} for every key column
    if not isinstance(value, str | int | float):
        raise RequestError("must be a record id (a number, a string, or a full key: an "
                           "object of the key columns' values)", field=field)
    if isinstance(value, str) and not value.strip():
        raise RequestError("must not be blank", field=field)
    return value


def _ids(value: Any) -> tuple[RecordId, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, bool | int | float):
        return (_scalar_id(value, _IDS),)
    if not isinstance(value, list):
        raise RequestError("must be a list of record ids or a comma-separated string",
                           field=_IDS)
    return tuple(_scalar_id(item, _IDS) for item in value)


def _inverse(value: Any) -> bool:
    return _flag(value, _INVERSE)


def _flag(value: Any, field: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise RequestError("must be true or false (a JSON boolean)", field=field)
    return value


def _token(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > _TOKEN_LENGTH:
        raise RequestError("must be the preview_token of a dry run's answer", field=_PREVIEW)
    return value
