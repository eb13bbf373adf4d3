"""``Flex``: the one object a user creates, the facade on top of flexorm.

``Flex`` merges its settings and records declarations into a
:class:`~flexorm.runtime.RuntimeHost`, and is the Litestar plugin that serves it
(:class:`~flexorm.plugin.FlexormPlugin`). Nothing below imports this module. Nothing
connects until a runtime is opened (by the app's lifespan or a CLI command), so creating one at
import time is free and safe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, TypeVar, Unpack, overload

from flexorm.actions.declaration import (
    ActionDeclaration,
    ActionOptions,
    check_options,
    collect_model_actions,
    declare,
)
from flexorm.actions.params import ColumnRef, ModelRef
from flexorm.exceptions import ConfigurationError
from flexorm.plugin import FlexormPlugin
from flexorm.runtime import Runtime, RuntimeHost
from flexorm.settings import RenameHook, Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import DeclarativeBase

__all__ = ["Flex"]

F = TypeVar("F", bound=Callable[..., Any])


class Flex(FlexormPlugin):
    """FlexActions for one database.

    Args:
        url: the database URL (``sqlite:///shop.db``, ``postgresql://user@host/db``...); defaults
            to ``FLEXORM_DATABASE_URL``.
        models: declarative classes whose ``@action`` methods become actions, and whose column
            types (``Enum``...) refine the reflected ones.
        base: a declarative base; every class mapped on it counts as in ``models``.
        settings: a full :class:`~flexorm.Settings`; the keyword arguments below override it.
        token: one shared key or several, accepted as ``Authorization: Bearer <key>``.
        insecure: serve without authorization (local development only).
        schemas: schemas to reflect (default: the default schema).
        include: glob patterns of collections to serve.
        exclude: glob patterns of collections to leave out.
        rename: ``(schema, table) -> collection name`` hook.

    Examples:
        >>> flex = Flex("sqlite:///shop.db", token="s3cret")
        >>> @flex.action(model="orders", for_instance=True)
        ... def refund(order, reason: str = "") -> None:
        ...     order.status = "refunded"
        >>> app = flex.app  # a Litestar application serving /api/messages/
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        models: Iterable[type[Any]] = (),
        base: type[DeclarativeBase] | None = None,
        settings: Settings | None = None,
        token: str | Sequence[str] | None = None,
        insecure: bool | None = None,
        schemas: Sequence[str] | None = None,
        include: Sequence[str] | None = None,
        exclude: Sequence[str] | None = None,
        rename: RenameHook | None = None,
    ) -> None:
        tokens = (token,) if isinstance(token, str) else (tuple(token) if token else None)
        base_settings = settings if settings is not None else Settings.from_env()
        merged = base_settings.with_(**{
            name: value for name, value in {
                "database_url": url, "tokens": tokens, "insecure": insecure,
                "schemas": tuple(schemas) if schemas is not None else None,
                "include": tuple(include) if include is not None else None,
                "exclude": tuple(exclude) if exclude is not None else None,
                "rename": rename,
            }.items() if value is not None
        })
        all_models: list[type[Any]] = list(models)
        if base is not None:
            all_models.extend(m.class_ for m in base.registry.mappers)
        super().__init__(RuntimeHost(merged, collect_model_actions(all_models), all_models))

    @property
    def settings(self) -> Settings:
        """The settings this ``Flex`` runs with (read-only: build a new ``Flex``, or pass
        ``settings=``, to change them)."""
        return self.host.settings

    # -- declaring -------------------------------------------------------------------------

    @overload
    def action(self, func: F, /) -> F: ...

    @overload
    def action(self, /, **options: Unpack[ActionOptions]) -> Callable[[F], F]: ...

    def action(self, func: Any = None, /, **options: Unpack[ActionOptions]) -> Any:
        """Declare an action; the decorated function is its body and is returned unchanged.

        Args:
            model: the collection(s) the action belongs to (names, or mapped classes); none for a
                common action.
            for_instance: the action runs on selected records (the body's first argument).
            bulk: with ``for_instance``, one call gets all selected records as a list.
            fields: generate one parameter per named column of the collection.
            name: the action's unique name (default: the function's name).
            label: the text Jet Admin shows (default: from the name).
            icon: a Jet Admin icon name.
            allow: a permission policy: ``(ctx) -> bool``, or one of flexorm's (``can_write``...).
            writes: whether the action writes; ``writes=False`` lets read-only Jet Admin users
                run it, and loads its rows without locking them.
            options: per-parameter hooks answering ``get_field_options``.
            preview: add a "Preview only: nothing is saved" checkbox (checked by default) that
                makes the run a dry run, showing what it would change.
            max_affected: the most rows of any one table a run may change; more is rolled back
                and answered with a 400.
            skip_locked: with ``for_instance``, selected records that another action is
                changing are left out rather than waited for (queue-like work).
            retries: how many times to run the action again after a deadlock or a
                serialization failure, or a background run whose worker died (off by default:
                a body may have side effects).
            background: answer at once with a queued run; a worker runs the body later.
            deadline: seconds (or a ``timedelta``) a background run may take once started.
            expires_after: seconds a background run may wait; not started by then, it expires.
        """

        check_options("action", options)

        def register(body: Any) -> Any:
            self.host.add(declare(body, **options))
            return body

        return register(func) if func is not None else register

    def message(self, name: str) -> Callable[[F], F]:
        """Answer another message of the protocol (``get_element_status``...) with a function.

        The function gets a :class:`~flexorm.server.messages.MessageContext` (``message.params``,
        ``caller``, ``runtime``, ``request``); sync or async, its return value is the JSON answer.
        It may also replace a built-in message.

        Examples:
            >>> @flex.message("get_element_status")  # doctest: +SKIP
            ... def element_status(ctx):
            ...     return {"status": "ok"}
        """
        if not isinstance(name, str) or not name:
            raise ConfigurationError("a message handler needs a message name")

        def register(handler: F) -> F:
            if not callable(handler):
                raise ConfigurationError(f"the handler of {name!r} is not callable")
            self.host.add_message_handler(name, handler)
            return handler

        return register

    @property
    def message_handlers(self) -> Mapping[str, Callable[..., Any]]:
        """Handlers added with :meth:`message`, by message name."""
        return self.host.message_handlers

    def model(self, name: str) -> ModelRef:
        """A reference to a reflected collection, usable as a parameter type (a ForeignKey).

        Examples:
            >>> Account = flex.model("accounts")  # doctest: +SKIP
            >>> def transfer(account_from: Account, amount: Decimal) -> None: ...  # doctest: +SKIP
        """
        return ModelRef(name)

    def column(self, path: str) -> ColumnRef:
        """``Annotated[T, flex.column("orders.status")]``: a parameter typed like that column."""
        return ColumnRef.parse(path)

    @property
    def declarations(self) -> tuple[ActionDeclaration, ...]:
        """Every declared action, in declaration order."""
        return self.host.declarations

    @property
    def models(self) -> tuple[type[Any], ...]:
        return self.host.models

    # -- running ---------------------------------------------------------------------------

    def runtime(self) -> AbstractAsyncContextManager[Runtime]:
        """Connect, reflect and bind every action; close the engines on exit.

        The app's lifespan and the CLI both run through this. Opened again while open, in the
        same event loop, it yields the runtime already open (closed by the outermost exit).
        """
        return self.host.runtime()
