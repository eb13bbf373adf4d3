"""Validating parameter values with a pydantic model built once per bound action.

Field names inside the model are safe internal ones (``p0``, ``p1``...) with the parameter's real
name as alias, so parameters called ``model_config``, ``json``, ``schema`` or ``_x`` work. Unknown
parameters are errors. A parameter sent as ``""`` or ``null`` counts as not sent (Jet Admin sends
``""`` for a field the user left untouched): an optional one takes its default, a required one
is reported as missing; a parameter without a default (a ``fields=`` column received by
``**values``) is left out of the values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pydantic
from pydantic import ConfigDict, Field, TypeAdapter, create_model

from flexorm.actions.params.signature import MISSING
from flexorm.actions.params.spec import ParamSpec
from flexorm.exceptions import ConfigurationError, ValidationError

__all__ = ["ParamValidator"]

_MAX_KEY = 100
_MAX_ERRORS_PER_FIELD = 5
_MAX_FIELDS = 50

_CONFIG = ConfigDict(extra="forbid", validate_by_alias=True, validate_by_name=False,
                     arbitrary_types_allowed=True)

_MESSAGES = {
    "missing": "This field is required.",
    "extra_forbidden": "Unknown parameter.",
}


def _message(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    text = str(error.get("msg", "Invalid value."))
    if text.startswith("Value error, "):
        text = text[len("Value error, "):]
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


class ParamValidator:
    """Validates the raw parameters of one bound action."""

    def __init__(self, action: str, params: Sequence[ParamSpec]) -> None:
        """Build the model of ``params`` once.

        Raises:
            ConfigurationError: a parameter's annotation pydantic cannot build a validator for
                (a constraint that does not fit its type...), naming the action and parameter.
        """
        self._params = tuple(params)
        definitions: dict[str, Any] = {}
        for index, spec in enumerate(self._params):
            if spec.required:
                info = Field(alias=spec.name)
            else:
                info = Field(alias=spec.name, default=spec.default)
            definitions[f"p{index}"] = (spec.annotation, info)
        try:
            self._model: type[pydantic.BaseModel] = create_model(
                "ActionParams", __config__=_CONFIG, **definitions)
        except Exception as exc:  # pydantic raises many kinds for one unfit annotation
            raise _unfit(action, self._params, exc) from None

    @property
    def params(self) -> tuple[ParamSpec, ...]:
        return self._params

    def validate(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The values by parameter name, every parameter present (absent optional ones take
        their default).

        Raises:
            ValidationError: per parameter, under its real name.
        """
        given = {key: value for key, value in raw.items() if value is not None and value != ""}
        try:
            model = self._model.model_validate(given)
        except pydantic.ValidationError as exc:
            errors: dict[str, list[str]] = {}
            for error in exc.errors(include_url=False, include_input=False):
                loc = error.get("loc") or ("",)
                key = str(loc[0])[:_MAX_KEY] if loc[0] != "" else "non_field_errors"
                if key not in errors and len(errors) >= _MAX_FIELDS:
                    continue  # a flood of unknown parameters: the first ones say enough
                messages = errors.setdefault(key, [])
                message = _message(error)
                if message not in messages and len(messages) < _MAX_ERRORS_PER_FIELD:
                    messages.append(message)
            raise ValidationError(errors) from None
        values = {spec.name: getattr(model, f"p{index}")
                  for index, spec in enumerate(self._params)}
        return {name: value for name, value in values.items() if value is not MISSING}


def _unfit(action: str, params: Sequence[ParamSpec], exc: Exception) -> ConfigurationError:
    """The error naming the parameter whose annotation pydantic could not build on."""
    for spec in params:
        try:
            TypeAdapter(spec.annotation, config=ConfigDict(arbitrary_types_allowed=True))
        except Exception as found:  # the first one that fails is named
            return ConfigurationError(
                f"action {action!r}: parameter {spec.name!r}: its type cannot be validated "
                f"({found})")
    return ConfigurationError(f"action {action!r}: its parameters cannot be validated ({exc})")
