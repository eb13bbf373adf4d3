"""``Flex``: the one object a user creates. It declares actions and builds the server.

``Flex`` holds only declarations and settings; nothing connects until a runtime is opened (by the
app's lifespan or a CLI command), so creating one at import time is free and safe.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from flexorm.actions.declaration import (
    ActionDeclaration,
    OptionsHook,
    Policy,
    collect_model_actions,
    declare,
)
from flexorm.actions.params import ColumnRef, ModelRef
from flexorm.exceptions import ConfigurationError
from flexorm.settings import RenameHook, Settings

if TYPE_CHECKING:
    from litestar import Litestar
    from sqlalchemy.orm import DeclarativeBase

    from flexorm.runtime import Runtime

__all__ = ["Flex"]

F = TypeVar("F", bound=Callable[..., Any])


class Flex(InitPluginProtocol):
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
        self.settings = base_settings.with_(**{
            name: value for name, value in {
                "database_url": url, "tokens": tokens, "insecure": insecure,
                "schemas": tuple(schemas) if schemas is not None else None,
                "include": tuple(include) if include is not None else None,
                "exclude": tuple(exclude) if exclude is not None else None,
                "rename": rename,
            }.items() if value is not None
        })
        self._models: list[type[Any]] = list(models)
        if base is not None:
            self._models.extend(m.class_ for m in base.registry.mappers)
        self._declarations: list[ActionDeclaration] = collect_model_actions(self._models)
        self._app: Litestar | None = None
        self._running = 0
        self._open: tuple[asyncio.AbstractEventLoop, Runtime] | None = None
        self._message_handlers: dict[str, Callable[..., Any]] = {}

    # -- declaring -------------------------------------------------------------------------

    @overload
    def action(self, func: F, /) -> F: ...

    @overload
    def action(
        self,
        /,
        *,
        model: str | type[Any] | Sequence[str | type[Any]] | None = None,
        for_instance: bool = False,
        bulk: bool = False,
        fields: Sequence[str] | None = None,
        name: str | None = None,
        label: str | None = None,
        icon: str | None = None,
        allow: Policy | None = None,
        writes: bool = True,
        options: Mapping[str, OptionsHook] | None = None,
    ) -> Callable[[F], F]: ...

    def action(self, func: Any = None, /, **kwargs: Any) -> Any:
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
                run it.
            options: per-parameter hooks answering ``get_field_options``.
        """

        def register(body: Any) -> Any:
            self._add(declare(body, **kwargs))
            return body

        return register(func) if func is not None else register

    def _add(self, declaration: ActionDeclaration) -> None:
        if self._running:
            raise ConfigurationError(
                f"action {declaration.name!r} declared while flexorm is running; actions are "
                "bound when the server starts, so declare every action before that"
            )
        self._declarations.append(declaration)

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
            self._message_handlers[name] = handler
            return handler

        return register

    @property
    def message_handlers(self) -> Mapping[str, Callable[..., Any]]:
        """Handlers added with :meth:`message`, by message name."""
        return dict(self._message_handlers)

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
        return tuple(self._declarations)

    @property
    def models(self) -> tuple[type[Any], ...]:
        return tuple(self._models)

    # -- running ---------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def runtime(self) -> AsyncIterator[Runtime]:
        """Connect, reflect and bind every action; close the engines on exit.

        The app's lifespan and the CLI both run through this. Opened again while open, in the
        same event loop, it yields the runtime already open (closed by the outermost exit).
        """
        from flexorm.runtime import open_runtime

        loop = asyncio.get_running_loop()
        if self._open is not None and self._open[0] is loop:
            # Nested in an open runtime on the same loop (``flexorm serve`` checks the database,
            # then the app's lifespan starts): share it rather than connect and load twice.
            yield self._open[1]
            return
        async with open_runtime(self) as runtime:
            self._running += 1
            outer, self._open = self._open, (loop, runtime)
            try:
                yield runtime
            finally:
                self._running -= 1
                self._open = outer

    @property
    def app(self) -> Litestar:
        """A Litestar application serving this ``Flex`` (built once)."""
        if self._app is None:
            from litestar import Litestar

            self._app = Litestar(plugins=[self])
        return self._app

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Wire flexorm into a Litestar app: ``Litestar(plugins=[flex])``."""
        from flexorm.server.plugin import configure_app

        return configure_app(self, app_config)
