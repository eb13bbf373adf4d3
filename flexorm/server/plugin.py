"""``configure_app``: flexorm wired into a Litestar ``AppConfig`` (``Flex.on_app_init``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from litestar.config.app import AppConfig

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

if TYPE_CHECKING:
    from flexorm.flex import Flex

__all__ = ["MAX_BODY_SIZE", "configure_app"]

MAX_BODY_SIZE = 2 * 1024 * 1024
"""The largest message body accepted (2 MiB: a bulk action over tens of thousands of ids)."""


def configure_app(
    flex: Flex,
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
        flex: the ``Flex`` whose runtime the app serves.
        app_config: the config being built (``on_app_init``).
        handlers: extra message handlers by message name (``get_element_status``...); they may
            also replace the built-in ones.
        max_body_size: the largest request body accepted on ``/api/messages/``, in bytes.

    Examples:
        >>> from litestar import Litestar
        >>> app = Litestar(plugins=[flex])  # doctest: +SKIP
    """
    standalone = not app_config.route_handlers
    user_handlers = {name: as_message_handler(h) for name, h in flex.message_handlers.items()}
    all_handlers = {**BUILTIN_HANDLERS, **user_handlers, **(handlers or {})}
    app_config.route_handlers.append(flexorm_router(all_handlers, max_body_size=max_body_size))
    app_config.lifespan.append(flexorm_lifespan(flex))

    def allow_origin() -> str:
        return flex.settings.cors_allow_origin

    paths = None if standalone else (MESSAGES_PATH, MODEL_DESCRIPTIONS_PATH, HEALTH_PATH)
    app_config.before_send.append(cors_hook(allow_origin, paths))
    if standalone:
        for exc_type, handler in http_exception_handlers().items():
            app_config.exception_handlers.setdefault(exc_type, handler)
    return app_config
