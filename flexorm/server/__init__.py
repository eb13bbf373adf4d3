"""The HTTP side: flexorm's Litestar plugin, routes, CORS and error mapping.

:class:`~flexorm.server.plugin.FlexormPlugin` (``Flex`` is one) wires it all into an app, so
``flex.app`` and ``Litestar(plugins=[flex])`` serve the same thing.
"""

from flexorm.server.plugin import FlexormPlugin, configure_app

__all__ = ["FlexormPlugin", "configure_app"]
