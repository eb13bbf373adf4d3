"""Declaring actions: ``declare`` (behind ``flex.action``), the ``@action`` method decorator and
``collect_model_actions``.

A declaration only records what the developer wrote, checked eagerly for mistakes that need no
database (``bulk`` without ``for_instance``, unsupported parameter types...). It is bound to the
reflected schema once, at startup, by :class:`~flexorm.actions.service.ActionService`.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict, TypeVar, Unpack, overload

from flexorm.actions.context import Policy
from flexorm.actions.params.signature import Signature, caller_namespace, parse_signature
from flexorm.exceptions import ConfigurationError

__all__ = [
    "PREVIEW_PARAM",
    "ActionDeclaration",
    "ActionOptions",
    "OptionsHook",
    "action",
    "check_options",
    "collect_model_actions",
    "declare",
]

OptionsHook = Callable[..., Any]
"""``(query, form) -> options`` for one parameter's ``get_field_options``, sync or async.

``query`` is the text the user typed (``None`` when nothing), ``form`` the form's current values.
It returns an iterable of ``{"value": ..., "name": ...}`` dicts (``color`` optional) or of
``(value, name)`` pairs.
"""

ModelTarget = str | type[Any]
"""A collection name, or a mapped class whose table is the collection."""

F = TypeVar("F", bound=Callable[..., Any])


class ActionOptions(TypedDict, total=False):
    """The options of an action, as ``flex.action(...)``, ``@action(...)`` and :func:`declare`
    all take them (spelled once, here)."""

    model: ModelTarget | Sequence[ModelTarget] | None
    """The collection(s) the action belongs to (names, or mapped classes); none for a common
    action."""
    for_instance: bool
    """The action runs on selected records (the body's first argument)."""
    bulk: bool
    """With ``for_instance``, one call gets all selected records as a list."""
    fields: Sequence[str] | None
    """Columns of the collection that become parameters."""
    name: str | None
    """The action's unique name (default: the function's name)."""
    label: str | None
    """The text Jet Admin shows (default: from the name)."""
    icon: str | None
    """A Jet Admin icon name."""
    allow: Policy | None
    """A permission policy: ``(ctx) -> bool``, or one of flexorm's (``can_write``...)."""
    writes: bool
    """Whether the action writes; ``writes=False`` lets read-only Jet Admin users run it."""
    options: Mapping[str, OptionsHook] | None
    """Per-parameter hooks answering ``get_field_options``."""
    preview: bool
    """Add a "Preview only: nothing is saved" checkbox, checked by default, that makes the run a
    dry run showing what it would change."""
    max_affected: int | None
    """The most rows of any one table a run may change; a run that changes more is rolled back
    and answered with a 400."""
    skip_locked: bool
    """With ``for_instance``, selected records that another action is changing are left out
    rather than waited for (queue-like work)."""
    retries: int
    """How many times to run the action again after a deadlock or a serialization failure, or
    a background run whose worker died mid-run (0 by default: a body may have side effects)."""
    background: bool
    """Answer at once with a queued run; a worker runs the body later."""
    deadline: float | dt.timedelta | None
    """Seconds (or a ``timedelta``) a background run may take once started."""
    expires_after: float | dt.timedelta | None
    """Seconds a background run may wait in the queue; not started by then, it expires."""
    atomic: bool
    """``False``: a background run over records commits chunk by chunk."""


_OPTION_NAMES = frozenset(ActionOptions.__annotations__)


def check_options(where: str, options: Mapping[str, Any]) -> None:
    """Refuse an option :class:`ActionOptions` does not have, as Python refuses an unexpected
    keyword argument (``TypeError``)."""
    unknown = sorted(set(options) - _OPTION_NAMES)
    if unknown:
        raise TypeError(f"{where}() got an unexpected keyword argument {unknown[0]!r}")

_MARK = "__flexorm_action__"

PREVIEW_PARAM = "preview"
"""The parameter ``preview=True`` adds."""


@dataclass(frozen=True)
class ActionDeclaration:
    """One declared action, before it is bound to a schema."""

    name: str
    """The action's name, unique per collection."""
    func: Callable[..., Any]
    """The body, called with the record(s) first (``for_instance``) then keyword parameters."""
    models: tuple[ModelTarget, ...] = ()
    """The collections it serves (names or mapped classes); empty for a common action."""
    for_instance: bool = False
    bulk: bool = False
    fields: tuple[str, ...] = ()
    """Columns of the collection that become parameters (passed as ``**values`` when sent)."""
    label: str | None = None
    icon: str | None = None
    allow: Policy | None = None
    """Who may run it (see :mod:`flexorm.actions.policies`); ``None``: every verified caller."""
    writes: bool = True
    """Whether the body may write. A ``read_only`` caller never runs (nor sees) an action that
    writes, whatever its policy; declare ``writes=False`` for one that only reads (a report)."""
    options: Mapping[str, OptionsHook] = field(default_factory=dict)
    """Per-parameter ``get_field_options`` hooks."""
    preview: bool = False
    """Add the ``preview`` parameter: checked (the default), the run is a dry run."""
    max_affected: int | None = None
    """The most rows of any one table a run may change; a run that changes more is rolled
    back and answered with a 400. ``None``: no cap."""
    skip_locked: bool = False
    """Leave out selected records another transaction holds locked, instead of waiting."""
    retries: int = 0
    """Runs again after a deadlock or a serialization failure, or a background run whose
    worker died, at most this many times."""
    background: bool = False
    """Answer at once with a queued run; a worker runs the body later (see
    ``docs/background.md``)."""
    deadline: float | None = None
    """Seconds a background run may take once started; past that it is stopped and rolled
    back."""
    expires_after: float | None = None
    """Seconds a background run may wait in the queue; not started by then, it never runs."""
    atomic: bool = True
    """``False``: a background run over records commits each chunk of ``chunk_size`` records
    with its progress, and a retry resumes after the last committed chunk."""
    recorded: bool = True
    """``False``: a call leaves no journal row and takes no idempotency key. Not an option of
    ``flex.action``: flexorm's own action that shows a run reads the journal, and is polled."""
    effects_elsewhere: bool = False
    """The body changes state outside its own transaction, so MCP and HTTP clients are told
    that it changes state whatever ``writes`` says. Not an option of ``flex.action``:
    flexorm's own action that cancels a run writes through the journal, and declares
    ``writes=False`` to take no lock (on SQLite it would wait for the very run it cancels)."""
    signature: Signature | None = field(default=None, compare=False)
    """The parsed signature; ``None`` when an annotation could only be resolved later."""
    namespace: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Local names where the action was declared, for resolving its annotations."""

    @property
    def is_async(self) -> bool:
        return _is_async(self.func)

    @property
    def model_names(self) -> tuple[str, ...]:
        """The models, with classes shown by name (for messages)."""
        return tuple(m if isinstance(m, str) else m.__name__ for m in self.models)


def _is_async(func: Callable[..., Any]) -> bool:
    target = getattr(func, "__func__", func)
    return inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
        getattr(target, "__call__", None)  # noqa: B004 - async callable objects
    )


def _models(name: str, model: Any) -> tuple[ModelTarget, ...]:
    if model is None:
        return ()
    if isinstance(model, str | type):
        items: list[Any] = [model]
    elif isinstance(model, Iterable):
        items = list(model)
    else:
        raise ConfigurationError(
            f"action {name!r}: model must be a collection name or a mapped class, not {model!r}"
        )
    if not items:
        raise ConfigurationError(f"action {name!r}: model is an empty list; leave it out for a "
                                 "common action")
    seen: set[Any] = set()
    for item in items:
        if isinstance(item, str):
            if not item:
                raise ConfigurationError(f"action {name!r}: empty collection name")
        elif not (isinstance(item, type) and hasattr(item, "__table__")):
            raise ConfigurationError(
                f"action {name!r}: model must be a collection name or a mapped class, "
                f"not {item!r}"
            )
        if item in seen:
            raise ConfigurationError(f"action {name!r}: model {item!r} is listed twice")
        seen.add(item)
    return tuple(items)


def declare(
    func: Callable[..., Any],
    *,
    namespace: Mapping[str, Any] | None = None,
    **options: Unpack[ActionOptions],
) -> ActionDeclaration:
    """Check and record one action.

    Parameters come from the body's annotations after the record parameter (``for_instance``);
    a parameter annotated ``ActionContext`` receives the context instead. ``fields`` columns
    become parameters too, passed by name (to a parameter of that name or to ``**values``):
    ``**values`` holds those that were sent, so that the body assigns only them; a parameter of
    the column's name that was not sent gets its Python default, else ``None`` (never the
    column's default, which would overwrite the records' values). A foreign key column passes
    the id, ready to assign. No parameter may be named ``ids`` or ``inverseIds`` (Jet Admin
    clients send the selection under those names inside the params).

    ``allow`` is a policy deciding who may run the action; ``writes=False`` declares that the
    body only reads, so that ``read_only`` Jet Admin users may run it too, and its rows are
    loaded without locks.

    An action that writes locks the rows it acts on until its transaction ends: ``skip_locked``
    leaves out selected records another action holds instead of waiting for them; ``retries``
    runs the action again after a deadlock or a serialization failure.

    ``preview=True`` adds a ``preview`` parameter (a checkbox, checked by default) that makes
    the run a dry run: what it would change is shown and nothing is saved. ``max_affected``
    caps how many rows of any one table a run may change (see :mod:`flexorm.actions.changes`
    for how rows are counted).

    ``options`` maps a parameter name to an :data:`OptionsHook` answering its
    ``get_field_options`` instead of flexorm's own search.

    ``background=True`` answers at once with a queued run that a worker runs later;
    ``deadline``, ``expires_after`` (seconds or a ``timedelta``) and ``atomic`` shape such
    runs, and ``retries`` also runs again a background run whose worker died (see
    ``docs/background.md``).

    ``namespace`` holds extra names for resolving annotations; by default the local names of the
    code declaring the action (so ``Account = flex.model(...)`` inside a function works).

    Raises:
        ConfigurationError: a contradictory option or an unsupported parameter, naming the action.

    Examples:
        >>> def refund(order: object, reason: str = "") -> None: ...
        >>> declare(refund, model="orders", for_instance=True).name
        'refund'
    """
    check_options("declare", options)
    if not callable(func):
        raise ConfigurationError(f"an action body must be callable, not {func!r}")
    model = options.get("model")
    for_instance = options.get("for_instance", False)
    bulk = options.get("bulk", False)
    fields = options.get("fields")
    name = options.get("name")
    label = options.get("label")
    icon = options.get("icon")
    allow = options.get("allow")
    writes = options.get("writes", True)
    preview = options.get("preview", False)
    max_affected = options.get("max_affected")
    skip_locked = options.get("skip_locked", False)
    retries = options.get("retries", 0)
    action_name = name if name is not None else getattr(func, "__name__", "")
    if not isinstance(action_name, str) or not action_name or action_name == "<lambda>":
        raise ConfigurationError(f"action {func!r} needs a name: pass name='...'")
    models = _models(action_name, model)
    if bulk and not for_instance:
        raise ConfigurationError(
            f"action {action_name!r}: bulk=True needs for_instance=True (bulk means one call for "
            "all selected records)"
        )
    if for_instance and not models:
        raise ConfigurationError(
            f"action {action_name!r}: for_instance=True needs a model (whose records it runs on)"
        )
    field_names = tuple(fields or ())
    if isinstance(fields, str):
        raise ConfigurationError(f"action {action_name!r}: fields must be a list of column names")
    if field_names and not models:
        raise ConfigurationError(
            f"action {action_name!r}: fields={list(field_names)!r} needs a model to take the "
            "columns from"
        )
    if len(set(field_names)) != len(field_names):
        raise ConfigurationError(f"action {action_name!r}: a column is listed twice in fields")
    hooks = dict(options.get("options") or {})
    for param, hook in hooks.items():
        if not callable(hook):
            raise ConfigurationError(
                f"action {action_name!r}: the options hook of {param!r} is not callable"
            )
    if allow is not None and not callable(allow):
        raise ConfigurationError(f"action {action_name!r}: allow must be callable")
    if not isinstance(writes, bool):
        raise ConfigurationError(f"action {action_name!r}: writes must be True or False")
    if not isinstance(preview, bool):
        raise ConfigurationError(f"action {action_name!r}: preview must be True or False")
    if max_affected is not None and (isinstance(max_affected, bool)
                                     or not isinstance(max_affected, int) or max_affected < 0):
        raise ConfigurationError(
            f"action {action_name!r}: max_affected must be a number of rows (0 or more), not "
            f"{max_affected!r}")
    _check_locking(action_name, for_instance=for_instance, writes=writes,
                   skip_locked=skip_locked, retries=retries)
    run = _background_options(action_name, background=options.get("background", False),
                              deadline=options.get("deadline"),
                              expires_after=options.get("expires_after"),
                              atomic=options.get("atomic", True), for_instance=for_instance,
                              preview=preview)
    localns = dict(namespace) if namespace is not None else caller_namespace()
    signature = parse_signature(
        func, action=action_name, for_instance=for_instance, fields=field_names, strict=False,
        localns=localns,
    )
    if preview and signature is not None and any(
            draft.name == PREVIEW_PARAM for draft in signature.params):
        raise ConfigurationError(
            f"action {action_name!r}: preview=True adds a parameter named {PREVIEW_PARAM!r}, "
            "and the action already has one")
    return ActionDeclaration(
        name=action_name, func=func, models=models, for_instance=for_instance, bulk=bulk,
        fields=field_names, label=label, icon=icon, allow=allow, writes=writes, options=hooks,
        preview=preview, max_affected=max_affected, signature=signature, namespace=localns,
        skip_locked=skip_locked, retries=retries, **run,
    )


def _check_locking(name: str, *, for_instance: bool, writes: bool, skip_locked: bool,
                   retries: int) -> None:
    if not isinstance(skip_locked, bool):
        raise ConfigurationError(f"action {name!r}: skip_locked must be True or False")
    if skip_locked and not for_instance:
        raise ConfigurationError(
            f"action {name!r}: skip_locked=True needs for_instance=True (it leaves out "
            "selected records that another action holds)")
    if skip_locked and not writes:
        raise ConfigurationError(
            f"action {name!r}: skip_locked=True with writes=False: an action that only reads "
            "locks nothing, so nothing is skipped")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigurationError(f"action {name!r}: retries must be a whole number, 0 or more")


def _seconds(action_name: str, option: str, value: float | dt.timedelta | None) -> float | None:
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, dt.timedelta) else value
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds > 0:
        raise ConfigurationError(
            f"action {action_name!r}: {option} must be a number of seconds (or a timedelta) "
            f"above 0, not {value!r}")
    return float(seconds)


def _background_options(action_name: str, *, background: bool,
                        deadline: float | dt.timedelta | None,
                        expires_after: float | dt.timedelta | None,
                        atomic: bool, for_instance: bool, preview: bool) -> dict[str, Any]:
    if not isinstance(background, bool):
        raise ConfigurationError(f"action {action_name!r}: background must be True or False")
    if not isinstance(atomic, bool):
        raise ConfigurationError(f"action {action_name!r}: atomic must be True or False")
    given = [name for name, value in (("deadline", deadline), ("expires_after", expires_after),
                                      ("atomic", None if atomic else False))
             if value is not None]
    if given and not background:
        raise ConfigurationError(
            f"action {action_name!r}: {', '.join(given)} shape background runs: add "
            "background=True")
    if background and preview:
        raise ConfigurationError(
            f"action {action_name!r}: preview=True answers what a run would change at once, "
            "background=True answers before it runs: choose one (a dry_run request still "
            "previews a background action)")
    if not atomic and not for_instance:
        raise ConfigurationError(
            f"action {action_name!r}: atomic=False commits chunk by chunk of records, so it "
            "needs for_instance=True")
    return {"background": background, "deadline": _seconds(action_name, "deadline", deadline),
            "expires_after": _seconds(action_name, "expires_after", expires_after),
            "atomic": atomic}


@overload
def action(func: F, /) -> F: ...


@overload
def action(**options: Unpack[ActionOptions]) -> Callable[[F], F]: ...


def action(func: Any = None, /, **options: Unpack[ActionOptions]) -> Any:
    """Mark a method of a mapped class as an action (found by ``collect_model_actions``).

    - an instance method is a per-record action on the class's table (``self`` is the row);
    - a ``classmethod`` or ``staticmethod`` with ``for_instance=True, bulk=True`` gets the list of
      selected rows; without ``for_instance`` it is a collection action.

    Put ``@action`` above ``@classmethod`` / ``@staticmethod``. The options are those of
    ``flex.action``; ``model`` defaults to the class itself.

    Examples:
        >>> class Order:  # a declarative mapped class in real code
        ...     @action
        ...     def cancel(self, reason: str = "") -> None:
        ...         self.status = "cancelled"
        ...
        ...     @action(for_instance=True, bulk=True)
        ...     @classmethod
        ...     def ship(cls, orders: list["Order"], carrier: str) -> int:
        ...         return len(orders)
    """

    check_options("action", options)

    def mark(target: Any) -> Any:
        inner = target.__func__ if isinstance(target, classmethod | staticmethod) else target
        if not callable(inner):
            raise ConfigurationError(f"@action marks methods, not {target!r}")
        setattr(inner, _MARK, {"namespace": caller_namespace(), **options})
        return target

    return mark(func) if func is not None else mark


def collect_model_actions(classes: Iterable[type[Any]]) -> list[ActionDeclaration]:
    """The actions marked with ``@action`` on the given classes (and their bases), in order."""
    declarations: list[ActionDeclaration] = []
    for cls in classes:
        seen: set[str] = set()
        for klass in cls.__mro__:
            for attribute, raw in vars(klass).items():
                if attribute in seen:
                    continue
                seen.add(attribute)
                inner = raw.__func__ if isinstance(raw, classmethod | staticmethod) else raw
                marked = getattr(inner, _MARK, None) if callable(inner) else None
                if isinstance(marked, dict):
                    declarations.append(_method_declaration(cls, attribute, raw, marked))
    return declarations


def _method_declaration(
    cls: type[Any], attribute: str, raw: Any, options: dict[str, Any]
) -> ActionDeclaration:
    opts = dict(options)
    opts.setdefault("model", cls)
    opts.setdefault("name", attribute)
    where = f"{cls.__name__}.{attribute}"
    if isinstance(raw, classmethod | staticmethod):
        body = getattr(cls, attribute)
        opts["for_instance"] = bool(opts.get("for_instance"))
    else:
        if opts.get("bulk"):
            raise ConfigurationError(
                f"action {where}: a bulk action receives the list of rows, so it must be a "
                "classmethod or staticmethod (put @action above @classmethod)"
            )
        if opts.get("for_instance") is False:
            raise ConfigurationError(
                f"action {where}: an instance method runs on one record; make it a classmethod "
                "for a collection action"
            )
        body = raw
        opts["for_instance"] = True
    return declare(body, **opts)
