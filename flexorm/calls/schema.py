"""Flat JSON Schema for an action's input, from the parameter specs that give Jet its fields.

The input of a tool (and the body of an HTTP operation) is one object: the action's parameters,
plus its selection when it runs on records (``id``, or ``ids`` with ``inverse``). The schema
is kept flat, because several MCP clients drop tools whose input uses more: no ``$ref``, one
``type`` per property (a parameter that takes any JSON value has none), enums inline, and the
``date``, ``date-time``, ``time``, ``uuid`` and ``decimal`` formats. Decimals are strings, so
that no digit is lost on the way.

The schema describes; it does not validate. Every value is validated by the action's own
validator, which answers in Jet Admin's per-field messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, get_args, get_origin

from pydantic import TypeAdapter

from flexorm.actions.binding import BoundAction
from flexorm.actions.params.fields import param_field
from flexorm.actions.params.kinds import DURATION_SCHEMA
from flexorm.actions.params.signature import MISSING
from flexorm.actions.params.spec import ParamSpec
from flexorm.protocol.encoding import encode
from flexorm.protocol.headers import IDEMPOTENCY_KEY_LENGTH, IDEMPOTENCY_PARAM
from flexorm.reflection.records import CollectionInfo
from flexorm.reflection.typemap import base_type, mysql_name, python_type_of

__all__ = [
    "DRY_RUN",
    "ERROR_SCHEMA",
    "OUTPUT_SCHEMA",
    "PREVIEW_TOKEN",
    "Selection",
    "input_schema",
    "selection",
]

_STRING = {"type": "string"}
_FIELD_TYPES: Mapping[str, Mapping[str, str]] = {
    "CharField": _STRING,
    "TextField": _STRING,
    "BinaryField": _STRING,
    "IntegerField": {"type": "integer"},
    "BigIntegerField": {"type": "integer"},
    "SmallIntegerField": {"type": "integer"},
    "FloatField": {"type": "number"},
    "DoublePrecisionField": {"type": "number"},
    "DecimalField": {"type": "string", "format": "decimal"},
    "NumberField": {"type": "string", "format": "decimal"},
    "BooleanField": {"type": "boolean"},
    "DateField": {"type": "string", "format": "date"},
    "DateTimeField": {"type": "string", "format": "date-time"},
    "TimestampField": {"type": "string", "format": "date-time"},
    "TimeField": {"type": "string", "format": "time"},
    "UUIDField": {"type": "string", "format": "uuid"},
}
"""Jet field type to JSON Schema; ``SelectField``, ``ForeignKey`` and ``JSONField`` are
described from the parameter itself."""

_COPIED: Mapping[str, str] = {
    "maxLength": "maxLength", "max_length": "maxLength",
    "minLength": "minLength", "min_length": "minLength",
    "minimum": "minimum", "ge": "minimum", "maximum": "maximum", "le": "maximum",
    "exclusiveMinimum": "exclusiveMinimum", "gt": "exclusiveMinimum",
    "exclusiveMaximum": "exclusiveMaximum", "lt": "exclusiveMaximum",
    "multipleOf": "multipleOf", "multiple_of": "multipleOf",
    "format": "format", "contentEncoding": "contentEncoding", "pattern": "pattern",
}
"""Constraints taken over from the parameter's pydantic annotation (pydantic names some of
them by their ``Field`` argument when a validator comes first), and its format (a UUID; bytes
as base64 text) or pattern (a MySQL ``TIME``, ``[-]HH:MM[:SS[.ffffff]]``)."""

_INT64 = (-(2**63), 2**63 - 1)
"""The range every integer parameter has anyway: not worth showing."""

DRY_RUN = "dry_run"
PREVIEW_TOKEN = "preview_token"  # noqa: S105 - the name of an input, not a secret
"""Inputs beside the parameters (left out when a parameter has the name)."""

OUTPUT_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "result": {"description": "What the action returned (true for nothing)."},
        "dry_run": {"type": "boolean", "description": "Present and true: nothing was saved."},
        "changes": {"type": "object", "description": "A dry run's changes, per table."},
        "preview_token": {"type": "string", "description": "Binds a real run to this dry run."},
    },
    "required": ["result"],
}
"""A successful call's structured answer: ``{"result": value}``, as ``execute_action``."""

ERROR_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "description": "Messages per parameter (non_field_errors: about the request as a whole).",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
"""A refused call's per-field messages: ``{"amount": ["Enter a number."]}``."""


@dataclass(frozen=True, slots=True)
class Selection:
    """The input keys naming the records a ``for_instance`` action runs on.

    ``id``, ``ids`` and ``inverse`` unless a parameter already has that name; then the key
    gets a ``record_`` prefix (``record_ids``...).
    """

    id: str
    ids: str
    inverse: str
    bulk: bool


def _free(name: str, taken: set[str]) -> str:
    while name in taken:
        name = f"record_{name}"
    return name


def selection(bound: BoundAction) -> Selection | None:
    """The selection keys of an action that runs on records; ``None`` for any other."""
    if not bound.declaration.for_instance:
        return None
    taken = {spec.name for spec in bound.params}
    return Selection(id=_free("id", taken), ids=_free("ids", taken),
                     inverse=_free("inverse", taken), bulk=bound.declaration.bulk)


def _record_schema(collection: CollectionInfo) -> dict[str, Any]:
    """What names one record of ``collection``: its id, or, for a composite key, the object
    of its key's columns (a first column alone may name many records, which is refused)."""
    key = collection.primary_key
    if not collection.has_primary_key or len(key) < 2:
        return _id_schema(collection)
    return {"type": "object", "properties": {name: _id_schema(collection, name) for name in key},
            "required": list(key), "additionalProperties": False}


def _id_schema(collection: CollectionInfo, column: str | None = None) -> dict[str, Any]:
    """The values of one column naming records (the first key column by default)."""
    info = collection.columns[column or collection.primary_key_field]
    python_type = param_field(info).python_type
    if python_type is int:
        return {"type": "integer"}
    if python_type in (float, Decimal):
        return {"type": "number"}
    # a duration: MySQL's TIME is sent as its text, any other (an interval) as its seconds
    kind = base_type(info.type)
    if mysql_name(type(kind)) == "TIME":
        return dict(DURATION_SCHEMA)
    if python_type_of(kind) is dt.timedelta:
        return {"type": "number"}
    return {"type": "string"}


_NOT_FLAT = frozenset({"$ref", "$defs", "anyOf", "oneOf", "allOf"})


def _flat(schema: Any) -> bool:
    """Whether ``schema`` keeps to what every MCP client reads: no references, no
    combinations, one type per node."""
    if isinstance(schema, dict):
        return (not _NOT_FLAT & schema.keys() and not isinstance(schema.get("type"), list)
                and all(_flat(value) for value in schema.values()))
    if isinstance(schema, list):
        return all(_flat(value) for value in schema)
    return True


def _without_int64(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` without the range every integer has anyway, on every level."""
    found = {key: _without_int64(value) if isinstance(value, dict) else value
             for key, value in schema.items()}
    if (found.get("minimum"), found.get("maximum")) == _INT64:
        del found["minimum"], found["maximum"]
    return found


def _items(annotation: Any) -> dict[str, Any]:
    """The ``items`` of a list parameter, when pydantic describes them flat (an array
    column's item type: an enum's values, a length, lists in lists)."""
    try:
        described = TypeAdapter(annotation).json_schema(mode="validation")
    except Exception:  # an annotation pydantic cannot describe: items of any kind
        return {}
    items = described.get("items")
    if described.get("type") != "array" or not isinstance(items, dict) or not items:
        return {}
    if not _flat(items):
        return {}
    return {"items": _without_int64(items)}


def _json_type(annotation: Any) -> dict[str, Any]:
    """``object`` or ``array`` (with its items) for a ``dict`` or ``list`` parameter; no type
    for any JSON."""
    core = get_args(annotation)[0] if get_args(annotation) else annotation
    origin = get_origin(core) or core
    if origin is dict:
        return {"type": "object"}
    if origin in (list, tuple):
        return {"type": "array", **_items(annotation)}
    return {}


def _choice_schema(spec: ParamSpec) -> dict[str, Any]:
    # a null option (Literal["a", None]) is the parameter left out: the property is optional
    values = [choice.wire_value for choice in spec.choices if choice.wire_value is not None]
    if all(isinstance(v, bool) for v in values):
        kind = "boolean"
    elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        kind = "integer"
    elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        kind = "number"
    else:
        kind, values = "string", [str(v) for v in values]
    return {"type": kind, "enum": values}


def _constraints(annotation: Any, kind: str) -> dict[str, Any]:
    """Length and range limits the annotation carries (a column's ``VARCHAR(40)``, an integer
    column's width, ``Field(ge=0)``), when pydantic can describe it as that same type."""
    try:
        described = TypeAdapter(annotation).json_schema(mode="validation")
    except Exception:  # an annotation pydantic cannot describe: no limits shown
        return {}
    if described.get("type") != kind:
        return {}
    return _without_int64({_COPIED[key]: value for key, value in described.items()
                           if key in _COPIED})


def _default(spec: ParamSpec) -> dict[str, Any]:
    if spec.default is MISSING or spec.default is None:
        return {}
    try:
        return {"default": encode(spec.default)}
    except TypeError:
        return {}


def param_schema(spec: ParamSpec) -> dict[str, Any]:
    """One parameter as a flat JSON Schema property."""
    if spec.choices:
        schema = _choice_schema(spec)
    elif spec.related is not None:
        schema = (_record_schema(spec.related) if spec.load_row
                  else _id_schema(spec.related, spec.related_field))
        named = ("key" if schema["type"] == "object" else spec.related_field
                 if spec.related_field not in (None, spec.related.primary_key_field) else "id")
        schema["description"] = (f"The {named} of a record of {spec.related.name} (find one "
                                 "with the get_field_options tool).")
    elif spec.field == "JSONField":
        schema = _json_type(spec.annotation)
    else:
        schema = dict(_FIELD_TYPES.get(spec.field, _STRING))
        if "format" not in schema:
            schema.update(_constraints(spec.annotation, schema["type"]))
    if spec.label:
        schema["title"] = spec.label
    if spec.description:
        schema["description"] = spec.description
    schema.update(_default(spec))
    return schema


def input_schema(bound: BoundAction, *, idempotent: bool = False) -> dict[str, Any]:
    """The action's input: its parameters and, for a record action, its selection;
    ``idempotent``: an ``idempotency_key`` too, for an action that writes (see
    :meth:`~flexorm.actions.service.ActionService.takes_idempotency_keys`)."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    keys = selection(bound)
    if keys is not None:
        assert bound.collection is not None
        name = bound.collection.name
        one = _record_schema(bound.collection)
        key = (f"the object of its key: {', '.join(bound.collection.primary_key)}"
               if one["type"] == "object" else None)
        if not keys.bulk:
            shown = f" ({key})" if key else ""
            properties[keys.id] = {**one, "description": f"The id of the {name} record to run "
                                                         f"on{shown}."}
        shown = f" (each {key})" if key else ""
        properties[keys.ids] = {
            "type": "array", "items": one,
            "description": f"The ids of the {name} records to run on{shown}.",
        }
        properties[keys.inverse] = {
            "type": "boolean", "default": False,
            "description": f"Run on every {name} record except those in {keys.ids}.",
        }
    for spec in bound.params:
        properties[spec.name] = param_schema(spec)
        if spec.required:
            required.append(spec.name)
    taken = {spec.name for spec in bound.params}
    # an action acting outside its transaction is refused a dry run (it would really act),
    # and so it takes no preview_token either
    previews = not bound.declaration.effects_elsewhere
    if previews and DRY_RUN not in taken:
        properties[DRY_RUN] = {
            "type": "boolean", "default": False,
            "description": "Run the action, answer what it would change (rows per table, "
                           "before and after) and a preview_token, then roll everything back.",
        }
    if idempotent and bound.declaration.writes and IDEMPOTENCY_PARAM not in taken:
        properties[IDEMPOTENCY_PARAM] = {
            "type": "string", "maxLength": IDEMPOTENCY_KEY_LENGTH,
            "description": "A key of your choosing: a call repeated with the same key and "
                           "arguments (a retry after a lost answer) runs the action once and "
                           "answers as the first call did.",
        }
    if previews and PREVIEW_TOKEN not in taken:
        properties[PREVIEW_TOKEN] = {
            "type": "string",
            "description": "A dry run's preview_token: the real run commits only if it changes "
                           "the same rows as that dry run (else 409).",
        }
    schema: dict[str, Any] = {"type": "object", "properties": properties,
                              "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema
