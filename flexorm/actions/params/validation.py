"""Validating parameter values with a pydantic model built once per bound action.

Field names inside the model are safe internal ones (``p0``, ``p1``...) with the parameter's real
name as alias, so parameters called ``model_config``, ``json``, ``schema`` or ``_x`` work. Unknown
parameters are errors. A parameter sent as ``""`` or ``null`` counts as not sent (Jet Admin sends
``""`` for a field the user left untouched): an optional one takes its default, a required one
is reported as missing; a parameter without a default (a ``fields=`` column received by
``**values``) is left out of the values.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Any

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

_SAMPLES: dict[type, Any] = {
    bool: False, int: 0, float: 0.0, Decimal: Decimal(0), str: "", bytes: b"",
    dt.datetime: dt.datetime(2000, 1, 1), dt.date: dt.date(2000, 1, 1), dt.time: dt.time(),
    dt.timedelta: dt.timedelta(),
}
"""A value of each plain type, to find at declaration the constraints pydantic checks only
when it validates a value (``Annotated[int, Field(pattern=...)]`` builds, then fails on every
value)."""

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
        _check_constraints(action, self._model, self._params)

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


def _sample(annotation: Any) -> Any:
    """A value of ``annotation``'s plain type (under ``Annotated``, and ``| None``), or
    ``MISSING``."""
    while True:
        if typing.get_origin(annotation) is Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if typing.get_origin(annotation) in (typing.Union, types.UnionType):
            kinds = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(kinds) == 1:
                annotation = kinds[0]
                continue
        break
    return _SAMPLES.get(annotation, MISSING) if isinstance(annotation, type) else MISSING


def _check_constraints(action: str, model: type[pydantic.BaseModel],
                       params: Sequence[ParamSpec]) -> None:
    """Refuse a parameter whose constraint does not fit its type (a ``pattern`` on an ``int``,
    a ``max_length`` on a ``float``): pydantic builds its validator and raises ``TypeError``
    on every value, which would fail every call. One validation of the action's ``model`` with
    a value of each parameter's plain type finds it.

    Raises:
        ConfigurationError: naming the action, the parameter and the constraint.
    """
    samples = {spec.name: sample for spec in params
               if (sample := _sample(spec.annotation)) is not MISSING}
    try:
        model.model_validate(samples)
    except pydantic.ValidationError:
        pass  # a sample breaks a constraint that fits, or a parameter has no sample: fine
    except TypeError as exc:
        if not str(exc).startswith("Unable to apply constraint"):
            raise
        for spec in params:
            if spec.name in samples:
                try:
                    TypeAdapter(spec.annotation, config=_CONFIG).validate_python(
                        samples[spec.name])
                except TypeError:
                    break
        else:  # pragma: no cover - the model's own error names no parameter
            spec = params[0]
        raise ConfigurationError(
            f"action {action!r}: parameter {spec.name!r}: a constraint does not fit its type "
            f"({exc})") from None
    except Exception:  # noqa: S110 - a sample's own validator may refuse it any way it likes
        pass


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
