"""Every action as a typed HTTP operation, and the OpenAPI 3.1 document that lists them.

``POST /api/actions/<collection>/<action>`` (``/api/actions/<action>`` for a common action)
takes the same JSON object as the action's MCP tool and answers ``{"result": value}``; errors
have the protocol's shapes. The document is built from the running actions, once per runtime.

Modules: :mod:`~flexorm.operations.routes` (the routes; what the app imports when it is built)
and :mod:`~flexorm.operations.document` (the OpenAPI document, imported on first use).
"""
