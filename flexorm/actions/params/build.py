"""A parameter draft (from a body's signature) → a :class:`ParamSpec`, against the reflected
schema: its Jet field, the annotation its values are validated with, its choices or related
collection."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Annotated, Any, get_args

import sqlalchemy as sa

from flexorm.actions._rows import find_collection
from flexorm.actions.declaration import ModelTarget
from flexorm.actions.params import annotated, kinds
from flexorm.actions.params.columns import column_param
from flexorm.actions.params.fields import annotation_field
from flexorm.actions.params.ids import record_id_coercer
from flexorm.actions.params.markers import TEXT_MARKERS, ModelRef, Sql
from flexorm.actions.params.signature import MISSING, ParamDraft
from flexorm.actions.params.spec import Choice, ParamSpec, humanize
from flexorm.exceptions import ConfigurationError, UnknownCollectionError
from flexorm.protocol.encoding import encode
from flexorm.reflection.records import CollectionInfo, SchemaInfo

__all__ = ["param_spec", "resolve_collection"]


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
        return annotated.str_annotation(*metadata)
    if core is int:
        return annotated.int_annotation(*metadata)
    if core is float:
        return annotated.float_annotation(*metadata)
    if core is Decimal:
        return annotated.decimal_annotation(*metadata)
    if core is bytes:
        return kinds.bytes_annotation(*metadata)
    return Annotated[core, *metadata] if metadata else core


def _is_option_value(member: enum.Enum) -> bool:
    try:
        return isinstance(encode(member), str | int | float | bool)
    except TypeError:  # a value JSON cannot hold
        return False


def _choices(core: Any) -> tuple[Choice, ...]:
    if isinstance(core, type) and issubclass(core, enum.Enum):
        members = list(core)
        if all(_is_option_value(m) for m in members):
            return tuple(Choice(member, humanize(member.name)) for member in members)
        # values that are no option value (a tuple, an object): the members go by name
        return tuple(Choice(member, humanize(member.name), wire=member.name)
                     for member in members)
    # a Literal shows its values as written, like a column's CHECK list
    return tuple(Choice(v, str(v)) for v in get_args(core))


def param_spec(draft: ParamDraft, collection: CollectionInfo | None, schema: SchemaInfo,
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
                            description=draft.description, typed=draft.type is not None,
                            spread=draft.spread)
    required = not draft.optional and draft.default is MISSING
    default = None if draft.default is MISSING and not required else draft.default
    common: dict[str, Any] = {"name": draft.name, "required": required, "default": default,
                              "label": draft.label, "description": draft.description}
    if draft.kind == "scalar":
        return ParamSpec(field=annotation_field(draft.type),
                         annotation=_scalar_annotation(draft.type, draft.metadata), **common)
    if draft.kind == "text":
        checks = (annotated.not_blank,) if draft.type is Sql else ()
        return ParamSpec(field=TEXT_MARKERS[draft.type],
                         annotation=annotated.str_annotation(*draft.metadata, *checks), **common)
    if draft.kind == "json":
        return ParamSpec(field="JSONField",
                         annotation=annotated.json_annotation(draft.type, *draft.metadata),
                         **common)
    if draft.kind == "select":
        choices = _choices(draft.type)
        return ParamSpec(field="SelectField", annotation=annotated.choice_annotation(choices),
                         choices=choices, **common)
    target = draft.type.name if isinstance(draft.type, ModelRef) else draft.type
    related = resolve_collection(schema, target, action=action)
    key = related.columns[related.primary_key_field]
    coerce = record_id_coercer(related, schema.dialect)  # a full key names one of a composite
    return ParamSpec(field="ForeignKey", annotation=annotated.coercer_annotation(coerce),
                     related=related, related_field=key.name, load_row=True, **common)
