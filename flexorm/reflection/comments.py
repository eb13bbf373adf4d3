"""Jet Admin's data source metadata, kept in table and column comments.

When Jet Admin manages a table's display settings, it stores them as a JSON object in the
table's or column's comment (``{"name": "Orders", "hidden": true}``). The reference bridge reads
them back into the ``data_source_*`` keys of a model description; so does flexorm. A comment that
is not a JSON object is an ordinary comment: every key is then ``null``.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["COLLECTION_KEYS", "FIELD_KEYS", "data_source", "plain_comment"]

COLLECTION_KEYS = {
    "name": "data_source_name",
    "name_plural": "data_source_name_plural",
    "order_after": "data_source_order_after",
    "hidden": "data_source_hidden",
}
"""A table comment's keys and the model description keys they fill."""

FIELD_KEYS = {
    "field": "data_source_field",
    "name": "data_source_name",
    "params": "data_source_params",
    "order_after": "data_source_order_after",
    "hidden": "data_source_hidden",
}
"""A column comment's keys and the field description keys they fill."""


def _meta(comment: str | None) -> dict[str, Any] | None:
    if not comment or not comment.lstrip().startswith("{"):
        return None
    try:
        meta = json.loads(comment)
    except ValueError:
        return None
    return meta if isinstance(meta, dict) else None


def data_source(comment: str | None, keys: dict[str, str]) -> dict[str, Any]:
    """The ``data_source_*`` entries for a comment: every key of ``keys``, ``None`` when absent.

    ``params`` counts only when it is an object, as in the reference bridge.

    Examples:
        >>> data_source('{"name": "Orders", "hidden": true}', COLLECTION_KEYS)["data_source_name"]
        'Orders'
        >>> data_source("the orders", COLLECTION_KEYS)["data_source_hidden"] is None
        True
    """
    if not comment:
        return dict.fromkeys(keys.values())
    meta = _meta(comment) or {}
    found = {target: meta.get(key) for key, target in keys.items()}
    if "data_source_params" in found and not isinstance(found["data_source_params"], dict):
        found["data_source_params"] = None
    return found


def plain_comment(comment: str | None) -> str | None:
    """The comment as a human description, or ``None`` when it is Jet Admin's JSON metadata.

    Examples:
        >>> plain_comment("amount in cents")
        'amount in cents'
        >>> plain_comment('{"name": "Amount"}') is None
        True
    """
    return None if _meta(comment) is not None else comment
