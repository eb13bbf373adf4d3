"""``ParamSpec``: one bound action parameter, ready to describe, validate and resolve."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from flexorm.actions.params.signature import MISSING
from flexorm.protocol.encoding import encode
from flexorm.reflection.records import CollectionInfo

__all__ = ["Choice", "ParamSpec", "humanize"]


def humanize(text: str) -> str:
    """``"not_shipped"`` → ``"Not shipped"``: the label of an option."""
    words = text.replace("_", " ").strip()
    return words[:1].upper() + words[1:].lower() if words.isupper() or words.islower() else words


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a ``SelectField``."""

    value: Any
    """The value the body receives (an Enum member for an Enum parameter)."""
    name: str
    """The label Jet Admin shows."""
    wire: Any = MISSING
    """The value as sent and shown, when it is not ``value`` encoded (an Enum member whose
    value is no text or number is sent by its name)."""

    @property
    def wire_value(self) -> Any:
        return encode(self.value) if self.wire is MISSING else self.wire

    def to_json(self) -> dict[str, Any]:
        return {"value": self.wire_value, "name": self.name}


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """A parameter of a bound action."""

    name: str
    """The parameter's name, as Jet Admin sends it."""
    field: str
    """The Jet field type: ``CharField``, ``ForeignKey``..."""
    required: bool
    annotation: Any
    """The pydantic annotation that validates the value as sent."""
    default: Any = MISSING
    """The value used when the parameter is absent (not sent, ``""`` or ``null``); ``MISSING``
    for an optional parameter leaves it out of the values (a ``fields=`` column received by
    ``**values``)."""
    label: str | None = None
    description: str | None = None
    choices: tuple[Choice, ...] = ()
    """The options of a ``SelectField``."""
    related: CollectionInfo | None = None
    """For a ``ForeignKey``: the collection whose records it names."""
    related_field: str | None = None
    """The referenced column (the primary key unless a foreign key targets another column)."""
    load_row: bool = False
    """Replace the validated id by the loaded row (a model parameter, not a column value)."""
    extra_params: Mapping[str, Any] = dataclass_field(default_factory=dict)
    """More field options for the descriptor (``length``...)."""

    def field_params(self) -> dict[str, Any]:
        params: dict[str, Any] = dict(self.extra_params)
        if self.choices:
            params["options"] = [choice.to_json() for choice in self.choices]
        if self.related is not None:
            related: dict[str, Any] = {"model": self.related.name}
            params["related_model"] = related
            if self.related_field and self.related_field != self.related.primary_key_field:
                params["custom_primary_key"] = self.related_field
        return params

    def descriptor(self) -> dict[str, Any]:
        """The parameter as ``get_action_list`` shows it."""
        described: dict[str, Any] = {"name": self.name, "field": self.field,
                                     "required": self.required}
        params = self.field_params()
        if params:
            described["params"] = params
        if self.default is not MISSING and self.default is not None:
            described["default"] = encode(self.default)
        if self.label:
            described["label"] = self.label
        if self.description:
            described["description"] = self.description
        return described
