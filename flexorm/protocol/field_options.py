"""``get_field_options`` params as a :class:`FieldOptionsRequest`.

``{"model": "orders", "field": "status", "form": {...}}`` asks for a column's options;
``{"action": "account_transfer", "field": "account_from", "form": {...}}`` for an action
parameter's. ``query`` (or ``search``) carries the text the user typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flexorm.exceptions import RequestError
from flexorm.protocol.body import decode_object
from flexorm.protocol.requests import FieldOptionsRequest

__all__ = ["parse_field_options"]


def parse_field_options(params: Mapping[str, Any]) -> FieldOptionsRequest:
    """Read the params of a ``get_field_options`` message.

    Raises:
        RequestError: a missing ``field``, or a value of the wrong type, under its key.
    """
    field = _optional_text(params, "field")
    if field is None:
        raise RequestError("this field is required", field="field")
    query = _optional_text(params, "query")
    if query is None:
        query = _optional_text(params, "search")
    return FieldOptionsRequest(
        field=field,
        action=_optional_text(params, "action"),
        model=_optional_text(params, "model"),
        query=query,
        form=decode_object(params.get("form"), field="form"),
    )


def _optional_text(params: Mapping[str, Any], key: str) -> str | None:
    value = params.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RequestError("must be a string", field=key)
    return value
