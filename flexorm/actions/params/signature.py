"""Reading an action body's signature into parameter drafts (no schema needed yet).

A draft says what kind of parameter a type annotation asks for; binding to the schema turns it
into a full parameter (:mod:`flexorm.actions.binding`).
"""

from __future__ import annotations

import enum
import inspect
import sys
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from flexorm.actions.context import ActionContext
from flexorm.actions.params.fields import scalar_types
from flexorm.actions.params.markers import TEXT_MARKERS, ColumnRef, ModelRef, Param
from flexorm.exceptions import ConfigurationError

__all__ = [
    "MISSING",
    "DraftKind",
    "ParamDraft",
    "Signature",
    "caller_namespace",
    "parse_signature",
]


class _Missing(enum.Enum):
    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing.MISSING
"""No default value."""

DraftKind = Literal["scalar", "text", "json", "select", "model", "column", "field"]

SCALARS: tuple[type[Any], ...] = scalar_types()
"""Types taken as they are (checked by identity: ``bool`` is an ``int``, a datetime a date)."""


@dataclass(frozen=True, slots=True)
class ParamDraft:
    """One Jet parameter as the signature declares it."""

    name: str
    kind: DraftKind
    type: Any
    """The core type: ``int``, an Enum class, ``Literal[...]``, a ``ModelRef`` or mapped class,
    ``dict[str, int]``...; for ``column`` and ``field`` the declared type or ``None``."""
    optional: bool = False
    """Annotated ``X | None``."""
    default: Any = MISSING
    column: ColumnRef | None = None
    """For ``column``: the referenced column."""
    metadata: tuple[Any, ...] = ()
    """Other ``Annotated`` metadata, handed to pydantic (``Field(ge=0)``, ``annotated_types``)."""
    label: str | None = None
    description: str | None = None
    secret: bool = False
    """Marked ``Param(secret=True)``: its value never reaches the journal."""
    spread: bool = False
    """A ``fields=`` column received by ``**values`` (no parameter of its name): left out of
    the call when not sent, so that the body assigns only what was sent."""


@dataclass(frozen=True, slots=True)
class Signature:
    """How to call a body: the record argument, context arguments and parameters."""

    record: str | None
    """The record parameter's name (``for_instance``), passed positionally."""
    context: tuple[str, ...]
    """Parameters annotated ``ActionContext``."""
    params: tuple[ParamDraft, ...]


def caller_namespace() -> dict[str, Any]:
    """The local names of the first caller outside flexorm (where the action is declared).

    Annotations are resolved in the body's module; a body declared inside a function (a factory,
    a test) with ``from __future__ import annotations`` also needs that function's locals, as
    ``Account = flex.model("accounts")`` there. Empty at module level.
    """
    frame = sys._getframe(1)
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("flexorm."):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None or frame.f_locals is frame.f_globals:
        return {}
    return dict(frame.f_locals)


def _hints(func: Callable[..., Any], names: list[str],
           localns: Mapping[str, Any]) -> dict[str, Any]:
    """Each parameter's evaluated annotation, one at a time so an unresolvable annotation on the
    record parameter or the return value does not matter."""
    target: Any = getattr(func, "__func__", func)
    if not inspect.isfunction(target) and not inspect.ismethod(target):
        target = getattr(type(func), "__call__", target)  # noqa: B004 - a callable object
        target = getattr(target, "__func__", target)
    raw: Mapping[str, Any] = getattr(target, "__annotations__", {}) or {}
    nsobj = inspect.unwrap(target)
    globalns = getattr(nsobj, "__globals__", {})
    hints: dict[str, Any] = {}
    for name in names:
        if name not in raw:
            continue
        shim = types.SimpleNamespace(__annotations__={name: raw[name]}, __globals__=globalns)
        hints[name] = typing.get_type_hints(shim, localns=dict(localns),
                                            include_extras=True)[name]
    return hints


def _unsupported(action: str, name: str, annotation: Any) -> ConfigurationError:
    shown = getattr(annotation, "__name__", None) or repr(annotation)
    return ConfigurationError(
        f"action {action!r}: parameter {name!r} has an unsupported type {shown}; use str, "
        "flexorm.Text, int, float, Decimal, bool, bytes, datetime, date, time, UUID, dict, list, "
        "an Enum, a Literal, a model reference (flex.model(...)) or a mapped class, or "
        "Annotated[T, flex.column('collection.column')]"
    )


RESERVED_NAMES = ("ids", "inverseIds")
"""Keys Jet Admin clients send inside an action's params for the selected records (the legacy
shape of protocol section 2): a parameter of that name could not be told apart from them."""


def _check_name(action: str, name: str) -> None:
    if name in RESERVED_NAMES:
        raise ConfigurationError(
            f"action {action!r}: a parameter may not be named {name!r}: Jet Admin clients send "
            "the selected records under that name inside the params; choose another name (a "
            "column of that name can be typed with Annotated[T, flex.column('t.column')])"
        )


def _check_metadata(action: str, name: str, metadata: list[Any]) -> None:
    """Refuse constraints flexorm does not honour, before they fail at startup."""
    for item in metadata:
        for part in (item, *getattr(item, "metadata", ())):
            if getattr(part, "allow_inf_nan", None):
                raise ConfigurationError(
                    f"action {action!r}: parameter {name!r} allows infinity and NaN "
                    "(allow_inf_nan=True): parameters take finite numbers only, as JSON and "
                    "most databases do"
                )


def _is_mapped_class(value: Any) -> bool:
    return isinstance(value, type) and hasattr(value, "__table__")


def _draft(action: str, parameter: inspect.Parameter, annotation: Any) -> ParamDraft:
    name = parameter.name
    default = MISSING if parameter.default is inspect.Parameter.empty else parameter.default
    metadata: list[Any] = []
    column: ColumnRef | None = None
    label = description = None
    secret = False
    core = annotation
    optional = False
    while True:
        if get_origin(core) is Annotated:
            core, *extra = get_args(core)
            for item in extra:
                if isinstance(item, ColumnRef):
                    column = item
                elif isinstance(item, Param):
                    label = item.label or label
                    description = item.description or description
                    secret = secret or item.secret
                else:
                    metadata.append(item)
            continue
        if get_origin(core) in (Union, types.UnionType):
            members = [a for a in get_args(core) if a is not type(None)]
            if len(members) != len(get_args(core)) - 1 or len(members) != 1:
                raise _unsupported(action, name, annotation)
            optional = True
            core = members[0]
            continue
        break
    _check_metadata(action, name, metadata)
    if get_origin(core) is Literal and None in get_args(core):
        optional = True  # Literal["a", None]: null is one of the options, and not sent
    common: dict[str, Any] = {
        "name": name, "optional": optional, "default": default, "metadata": tuple(metadata),
        "label": label, "description": description, "secret": secret,
    }
    if column is not None:
        return ParamDraft(kind="column", type=core, column=column, **common)
    if core in TEXT_MARKERS:
        return ParamDraft(kind="text", type=core, **common)
    if any(core is scalar for scalar in SCALARS):
        return ParamDraft(kind="scalar", type=core, **common)
    origin = get_origin(core)
    if core in (dict, list) or origin in (dict, list):
        return ParamDraft(kind="json", type=core, **common)
    if origin is Literal or (isinstance(core, type) and issubclass(core, enum.Enum)):
        if origin is Literal and not get_args(core):
            raise _unsupported(action, name, annotation)
        return ParamDraft(kind="select", type=core, **common)
    if isinstance(core, ModelRef) or _is_mapped_class(core):
        return ParamDraft(kind="model", type=core, **common)
    raise _unsupported(action, name, annotation)


def parse_signature(
    func: Callable[..., Any],
    *,
    action: str,
    for_instance: bool,
    fields: tuple[str, ...],
    strict: bool,
    localns: Mapping[str, Any] | None = None,
) -> Signature | None:
    """Read a body's signature.

    Args:
        func: the body.
        action: the action's name, for messages.
        for_instance: the first positional parameter is the record (or the list of records).
        fields: column names that become parameters.
        strict: raise on an annotation that cannot be resolved yet (a forward reference); when
            false, answer ``None`` so that binding tries again later.
        localns: extra names for resolving annotations (see :func:`caller_namespace`).

    Raises:
        ConfigurationError: the signature cannot be served, naming the action and parameter.
    """
    try:
        parameters = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"action {action!r}: cannot read its signature ({exc})") from None
    record: str | None = None
    if for_instance:
        if not parameters or parameters[0].kind not in (
            inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD
        ):
            raise ConfigurationError(
                f"action {action!r} runs on records: its first parameter receives the record "
                "(or the list of records for bulk)"
            )
        record = parameters[0].name
        parameters = parameters[1:]
    try:
        hints = _hints(func, [p.name for p in parameters], localns or {})
    except NameError as exc:
        if not strict:
            return None
        raise ConfigurationError(
            f"action {action!r}: cannot resolve a parameter annotation ({exc})"
        ) from None
    except TypeError as exc:
        raise ConfigurationError(f"action {action!r}: bad parameter annotation ({exc})") from None

    context: list[str] = []
    drafts: list[ParamDraft] = []
    has_var_keyword = False
    for parameter in parameters:
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            has_var_keyword = True
            continue
        if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.POSITIONAL_ONLY):
            raise ConfigurationError(
                f"action {action!r}: parameter {parameter.name!r} must be passable by keyword"
            )
        annotation = hints.get(parameter.name, inspect.Parameter.empty)
        if annotation is ActionContext:
            context.append(parameter.name)
            continue
        _check_name(action, parameter.name)
        if parameter.name in fields:
            drafts.append(ParamDraft(
                name=parameter.name, kind="field", type=None,
                default=MISSING if parameter.default is inspect.Parameter.empty
                else parameter.default,
            ))
            continue
        if annotation is inspect.Parameter.empty:
            raise ConfigurationError(
                f"action {action!r}: parameter {parameter.name!r} has no type annotation (it "
                "decides the field Jet Admin shows)"
            )
        drafts.append(_draft(action, parameter, annotation))
    named = {d.name for d in drafts}
    rest = [f for f in fields if f not in named]
    if rest and not has_var_keyword:
        raise ConfigurationError(
            f"action {action!r}: the columns {rest!r} from fields= need a parameter of that name "
            "or a **values parameter to receive them"
        )
    for name in rest:
        _check_name(action, name)
    drafts.extend(ParamDraft(name=f, kind="field", type=None, spread=True) for f in rest)
    return Signature(record=record, context=tuple(context), params=tuple(drafts))
