"""The HTTP side: flexorm's Litestar routes, guard, CORS and error mapping.

:func:`flexorm.server.plugin.configure_app` wires it all into an ``AppConfig``; ``Flex`` calls it
from ``on_app_init``, so ``flex.app`` and ``Litestar(plugins=[flex])`` serve the same thing.
"""

from flexorm.server.plugin import configure_app

__all__ = ["configure_app"]
