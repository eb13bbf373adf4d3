"""Binding a declaration to the reflected schema: collections resolved, parameters derived,
validator built. Done once per (action, collection) at startup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flexorm.actions._dry_run import PREVIEW_DESCRIPTOR
from flexorm.actions.declaration import ActionDeclaration
from flexorm.actions.params.build import param_spec, resolve_collection
from flexorm.actions.params.signature import Signature, parse_signature
from flexorm.actions.params.spec import ParamSpec
from flexorm.actions.params.validation import ParamValidator
from flexorm.exceptions import ConfigurationError
from flexorm.reflection.records import CollectionInfo, SchemaInfo

__all__ = ["BoundAction", "bind", "resolve_collection"]


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
    shown = [p.descriptor() for p in params]
    if declaration.preview:
        shown.append(dict(PREVIEW_DESCRIPTOR))
    if shown:
        described["params"] = shown
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
    params = tuple(param_spec(draft, collection, schema, name) for draft in signature.params)
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

