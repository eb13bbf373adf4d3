"""Binding a declaration to the reflected schema: collections resolved, parameters derived,
validator built. Done once per (action, collection) at startup."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, get_args

import sqlalchemy as sa

from flexorm.actions import _types
from flexorm.actions._columns import column_param
from flexorm.actions._ids import id_coercer
from flexorm.actions._rows import find_collection
from flexorm.actions._signature import MISSING, ParamDraft, Signature, parse_signature
from flexorm.actions._spec import Choice, ParamSpec, humanize
from flexorm.actions._validation import ParamValidator
from flexorm.actions.declaration import ActionDeclaration, ModelTarget
from flexorm.actions.params import ModelRef
from flexorm.exceptions import ConfigurationError, UnknownCollectionError
from flexorm.reflection.records import CollectionInfo, SchemaInfo

__all__ = ["BoundAction", "bind", "resolve_collection"]

_SCALAR_FIELDS: dict[Any, str] = {
    str: "CharField", int: "IntegerField", float: "FloatField", Decimal: "DecimalField",
    bool: "BooleanField", dt.datetime: "DateTimeField", dt.date: "DateField",
    dt.time: "TimeField", uuid.UUID: "CharField",
}


@dataclass(frozen=True)
class BoundAction:
    """A declaration bound to one collection (or to none, for a common action)."""

    declaration: ActionDeclaration
    collection: CollectionInfo | None
    signature: Signature
    params: tuple[ParamSpec, ...]
    validator: ParamValidator
    descriptor: dict[str, Any]
    """The ``get_action_list`` entry."""

    @property
    def name(self) -> str:
        return self.declaration.name

    def param(self, name: str) -> ParamSpec | None:
        return next((p for p in self.params if p.name == name), None)


def resolve_collection(schema: SchemaInfo, target: ModelTarget, *, action: str) -> CollectionInfo:
    """The collection a name or mapped class stands for."""
    if isinstance(target, str):
        try:
            return schema[target]
        except UnknownCollectionError as exc:
            raise ConfigurationError(f"action {action!r}: {exc.message}") from None
    table = getattr(target, "__table__", None)
    found = find_collection(schema, table) if isinstance(table, sa.Table) else None
    if found is None:
        raise ConfigurationError(
            f"action {action!r}: the table of {target.__name__} is not a served collection"
        )
    return found


def _scalar_annotation(core: Any, metadata: tuple[Any, ...]) -> Any:
    if core is str:
        return _types.str_annotation(*metadata)
    if core is int:
        return _types.int_annotation(*metadata)
    if core is float:
        return _types.float_annotation(*metadata)
    if core is Decimal:
        return _types.decimal_annotation(*metadata)
    return Annotated[core, *metadata] if metadata else core


def _choices(core: Any) -> tuple[Choice, ...]:
    if isinstance(core, type) and issubclass(core, enum.Enum):
        return tuple(Choice(member, humanize(member.name)) for member in core)
    # a Literal shows its values as written, like a column's CHECK list
    return tuple(Choice(v, str(v)) for v in get_args(core))


def _param(draft: ParamDraft, collection: CollectionInfo | None, schema: SchemaInfo,
           action: str) -> ParamSpec:
    if draft.kind in ("field", "column"):
        if draft.kind == "field":
            assert collection is not None  # declare() refuses fields without a model
            owner, column = collection, draft.name
        else:
            assert draft.column is not None
            owner = resolve_collection(schema, draft.column.collection, action=action)
            column = draft.column.column
        return column_param(draft.name, owner, column, schema, action=action,
                            default=draft.default, optional=draft.optional, label=draft.label,
                            description=draft.description)
    required = not draft.optional and draft.default is MISSING
    default = None if draft.default is MISSING and not required else draft.default
    common: dict[str, Any] = {"name": draft.name, "required": required, "default": default,
                              "label": draft.label, "description": draft.description}
    if draft.kind == "scalar":
        return ParamSpec(field=_SCALAR_FIELDS[draft.type],
                         annotation=_scalar_annotation(draft.type, draft.metadata), **common)
    if draft.kind == "text":
        return ParamSpec(field="TextField", annotation=_types.str_annotation(*draft.metadata),
                         **common)
    if draft.kind == "json":
        return ParamSpec(field="JSONField",
                         annotation=_types.json_annotation(draft.type, *draft.metadata), **common)
    if draft.kind == "select":
        choices = _choices(draft.type)
        return ParamSpec(field="SelectField", annotation=_types.choice_annotation(choices),
                         choices=choices, **common)
    target = draft.type.name if isinstance(draft.type, ModelRef) else draft.type
    related = resolve_collection(schema, target, action=action)
    key = related.columns[related.primary_key_field]
    return ParamSpec(field="ForeignKey", annotation=_types.coercer_annotation(id_coercer(key)),
                     related=related, related_field=key.name, load_row=True, **common)


def _descriptor(declaration: ActionDeclaration, collection: CollectionInfo | None,
                params: tuple[ParamSpec, ...]) -> dict[str, Any]:
    described: dict[str, Any] = {"name": declaration.name}
    if collection is None:
        described["common_action"] = {}
    else:
        scope: dict[str, Any] = {"model": collection.name}
        if declaration.for_instance:
            scope["for_instance"] = True
        if declaration.bulk:
            scope["bulk"] = True
        described["model_action"] = scope
    if params:
        described["params"] = [p.descriptor() for p in params]
    if declaration.label:
        described["label"] = declaration.label
    if declaration.icon:
        described["icon"] = declaration.icon
    return described


def bind(declaration: ActionDeclaration, collection: CollectionInfo | None,
         schema: SchemaInfo) -> BoundAction:
    """Bind one declaration to one of its collections.

    Raises:
        ConfigurationError: an unknown collection or column, a bad default, an options hook
            for a parameter that does not exist; the message names the action.
    """
    name = declaration.name
    signature = declaration.signature or parse_signature(
        declaration.func, action=name, for_instance=declaration.for_instance,
        fields=declaration.fields, strict=True, localns=declaration.namespace,
    )
    assert signature is not None  # strict parsing raises instead
    params = tuple(_param(draft, collection, schema, name) for draft in signature.params)
    for spec in params:
        try:
            spec.descriptor()
        except TypeError as exc:
            raise ConfigurationError(
                f"action {name!r}: the default of parameter {spec.name!r} cannot be sent to "
                f"Jet Admin ({exc})"
            ) from None
    unknown = [p for p in declaration.options if all(s.name != p for s in params)]
    if unknown:
        raise ConfigurationError(
            f"action {name!r}: options hooks for parameters it does not have: {unknown!r}"
        )
    return BoundAction(
        declaration=declaration, collection=collection, signature=signature, params=params,
        validator=ParamValidator(name, params),
        descriptor=_descriptor(declaration, collection, params),
    )

