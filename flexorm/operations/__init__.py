"""Every action as a typed HTTP operation, and the OpenAPI 3.1 document that lists them.

``POST /api/actions/<collection>/<action>`` (``/api/actions/<action>`` for a common action)
takes the same JSON object as the action's MCP tool and answers ``{"result": value}``; errors
have the protocol's shapes. The document is built from the running actions, once per runtime.
"""

from flexorm.operations.document import openapi_document
from flexorm.operations.routes import operations_router

__all__ = ["openapi_document", "operations_router"]
