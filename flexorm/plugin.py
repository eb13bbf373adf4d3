"""flexorm wired into a Litestar app: :class:`FlexormPlugin` and :func:`configure_app`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from litestar.config.app import AppConfig
from litestar.plugins import InitPlugin

from flexorm.calls.names import ACTIONS_PATH
from flexorm.mcp.endpoint import MCP_PATH, McpEndpoint
from flexorm.operations.routes import OPENAPI_PATH, SCHEMA_PATH, operations_router
from flexorm.runtime import RuntimeHost
from flexorm.server.cors import cors_hook
from flexorm.server.errors import http_exception_handlers
from flexorm.server.lifespan import flexorm_lifespan
from flexorm.server.messages import BUILTIN_HANDLERS, MessageHandler, as_message_handler
from flexorm.server.routes import (
    HEALTH_PATH,
    MESSAGES_PATH,
    MODEL_DESCRIPTIONS_PATH,
    flexorm_router,
)
from flexorm.server.state import server_state

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.types import Scope

__all__ = ["MAX_BODY_SIZE", "FlexormPlugin", "configure_app"]

MAX_BODY_SIZE = 2 * 1024 * 1024
"""The largest message body accepted (2 MiB: a bulk action over tens of thousands of ids)."""


class FlexormPlugin(InitPlugin):
    """The Litestar plugin serving one :class:`~flexorm.runtime.RuntimeHost`.

    ``Flex`` is one; the CLI builds one for a bare database URL.

    Examples:
        >>> from litestar import Litestar
        >>> app = Litestar(plugins=[flex])  # doctest: +SKIP
    """

    def __init__(self, host: RuntimeHost) -> None:
        self._host = host
        self._app: Litestar | None = None

    @property
    def host(self) -> RuntimeHost:
        """The settings and declarations this plugin serves."""
        return self._host

    @property
    def app(self) -> Litestar:
        """A Litestar application with this plugin only (built once)."""
        if self._app is None:
            from litestar import Litestar

            self._app = Litestar(plugins=[self])
        return self._app

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Wire flexorm into a Litestar app: ``Litestar(plugins=[flex])``."""
        return configure_app(self._host, app_config)


def configure_app(
    host: RuntimeHost,
    app_config: AppConfig,
    *,
    handlers: Mapping[str, MessageHandler] | None = None,
    max_body_size: int = MAX_BODY_SIZE,
) -> AppConfig:
    """Add flexorm's routes, lifespan, CORS and error handling to an app's config.

    When flexorm is the whole app (``flex.app``: no other route handlers) CORS headers and the
    protocol's JSON error shape cover every response, the router's 404 and 405 included; inside
    a user's app they cover flexorm's own routes and leave the rest of the app alone.

    Args:
        host: what the app serves (its runtime is opened by the app's lifespan).
        app_config: the config being built (``on_app_init``).
        handlers: extra message handlers by message name (``get_element_status``...); they may
            also replace the built-in ones.
        max_body_size: the largest request body accepted on ``/api/messages/``, the actions'
            operations and ``/mcp``, in bytes.
    """
    standalone = not app_config.route_handlers
    user_handlers = {name: as_message_handler(h) for name, h in host.message_handlers.items()}
    all_handlers = {**BUILTIN_HANDLERS, **user_handlers, **(handlers or {})}
    raw = not (app_config.after_request or app_config.response_headers
               or app_config.response_cookies)
    app_config.route_handlers.append(flexorm_router(all_handlers, max_body_size=max_body_size,
                                                    raw=raw))
    app_config.lifespan.append(flexorm_lifespan(host))
    mcp = McpEndpoint(max_body_size=max_body_size)
    schema_paths = (OPENAPI_PATH, SCHEMA_PATH) if standalone else (OPENAPI_PATH,)
    if standalone:
        # flexorm's document lists every action (behind the credentials unless published);
        # Litestar's own would describe the messages endpoint only, to anyone
        app_config.openapi_config = None
    app_config.route_handlers.append(operations_router(
        max_body_size=max_body_size, mcp=mcp, schema_paths=schema_paths))
    app_config.lifespan.append(mcp.lifespan)

    def allow_origin(scope: Scope) -> str:
        # the settings the runtime started with (a command may have overridden the host's)
        state = server_state(scope["app"].state)
        settings = state.runtime.settings if state is not None else host.settings
        return settings.cors_allow_origin

    paths = None if standalone else (MESSAGES_PATH, MODEL_DESCRIPTIONS_PATH, HEALTH_PATH,
                                     ACTIONS_PATH, OPENAPI_PATH, MCP_PATH)
    app_config.before_send.append(cors_hook(allow_origin, paths))
    if standalone:
        for exc_type, handler in http_exception_handlers().items():
            app_config.exception_handlers.setdefault(exc_type, handler)
    return app_config
