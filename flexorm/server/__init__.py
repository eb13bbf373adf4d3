"""The HTTP side of the messages protocol: routes, lifespan, guards, CORS and error mapping.

:class:`~flexorm.plugin.FlexormPlugin` (``Flex`` is one) wires these, the MCP endpoint and the
HTTP operations into an app, so ``flex.app`` and ``Litestar(plugins=[flex])`` serve the same
thing.
"""
